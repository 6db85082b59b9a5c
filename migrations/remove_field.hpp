#pragma once
/// remove-field: the later release of a rename. Removes a field, but only from documents that
/// carry the field that replaced it; a document without it is an error and is left untouched
/// (the engine also refuses to start while any such document exists: docs/MANIFEST.md).
#include <memory>
#include <string>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

class RemoveField final : public Transform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           std::string updated_at);

  const std::vector<std::string>& fields() const override { return fields_; }
  using Transform::apply;
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const override;

 private:
  RemoveField(DocumentScope scope, const ContainerSpec& container, std::string updated_at);

  DocumentScope scope_;
  std::vector<std::string> fields_;  ///< the one field removed
  std::string require_field_;
  std::string updated_at_;
};

}  // namespace backfilld::migrations
