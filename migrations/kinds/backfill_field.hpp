#pragma once
/// backfill-field: set a field where it is missing (absent or null), from a constant or from
/// another field of the same document. Never overwrites; never removes. rename-field reuses its
/// transform.
#include <memory>
#include <optional>
#include <string>

#include "migrations/kind.hpp"
#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// {"field": "archived", "value": false} or {"field": "ownerEmail", "fromField": "email"}.
struct BackfillFieldSettings {
  std::string field;  ///< the one field set (and counted); "" when the manifest's is refused
  std::string from_field = {};  ///< where the value comes from; "" for the constant
  std::string value_json = {};  ///< the constant, as JSON text

  bool operator==(const BackfillFieldSettings&) const = default;
};

/// The backfill-field row: settings BackfillFieldSettings, stamps updatedAt when user-visible.
const Kind& backfill_field_kind();

class BackfillField final : public ScopedTransform {
 public:
  /// `updated_at` is stamped on rewritten documents when non-empty (user-visible migrations).
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const BackfillFieldSettings& settings,
                                                           std::string updated_at);

 private:
  BackfillField(DocumentScope scope,
                const BackfillFieldSettings& settings,
                std::optional<rapidjson::Document> constant,
                std::string updated_at);
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::string from_field_;  ///< empty: the constant
  std::optional<rapidjson::Document> constant_;
};

}  // namespace backfilld::migrations
