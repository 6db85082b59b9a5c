#pragma once
/// remap-enum: replaces a field's old values by new ones from a table. Values already new are
/// skipped (a rerun changes nothing); values in neither column are counted "unknown" and left.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "migrations/kind.hpp"
#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// {"field": "state", "map": {"proposed": "pending", ...}}.
struct RemapEnumSettings {
  std::string field;  ///< the field remapped (and counted); "" when the manifest's is refused
  std::vector<std::pair<std::string, std::string>> value_map;  ///< old -> new, in manifest order

  bool operator==(const RemapEnumSettings&) const = default;
};

/// The remap-enum row: settings RemapEnumSettings, counts "unknown" values, stamps updatedAt
/// when user-visible.
const Kind& remap_enum_kind();

class RemapEnum final : public ScopedTransform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const RemapEnumSettings& settings,
                                                           std::string updated_at);

 private:
  RemapEnum(DocumentScope scope, const RemapEnumSettings& settings, std::string updated_at);
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::vector<std::pair<std::string, std::string>> value_map_;
};

}  // namespace backfilld::migrations
