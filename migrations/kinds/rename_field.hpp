#pragma once
/// rename-field: the first release of a rename. Copies a field to its new name wherever the new
/// one is missing (backfill-field's transform, from the old field); remove-field later drops
/// the old one.
#include <string>

#include "migrations/kind.hpp"

namespace backfilld::migrations {

/// {"from": "tags", "to": "labels"}.
struct RenameFieldSettings {
  std::string from;
  std::string to;  ///< the field set (and counted); "" when the manifest's is refused

  bool operator==(const RenameFieldSettings&) const = default;
};

/// The rename-field row: settings RenameFieldSettings, stamps updatedAt when user-visible.
const Kind& rename_field_kind();

}  // namespace backfilld::migrations
