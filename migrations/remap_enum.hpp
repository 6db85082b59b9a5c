#pragma once
/// remap-enum: replaces a field's old values by new ones from a table. Values already new are
/// skipped (a rerun changes nothing); values in neither column are counted "unknown" and left.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

class RemapEnum final : public Transform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           std::string updated_at);

  const std::vector<std::string>& fields() const override { return fields_; }
  using Transform::apply;
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const override;

 private:
  RemapEnum(DocumentScope scope, const ContainerSpec& container, std::string updated_at);

  DocumentScope scope_;
  std::vector<std::string> fields_;  ///< the one field remapped
  std::vector<std::pair<std::string, std::string>> value_map_;
  std::string updated_at_;
};

}  // namespace backfilld::migrations
