#pragma once
/// remap-enum: replaces a field's old values by new ones from a table. Values already new are
/// skipped (a rerun changes nothing); values in neither column are counted "unknown" and left.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

class RemapEnum final : public ScopedTransform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           std::string updated_at);

 private:
  RemapEnum(DocumentScope scope, const ContainerSpec& container, std::string updated_at);
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::vector<std::pair<std::string, std::string>> value_map_;
};

}  // namespace backfilld::migrations
