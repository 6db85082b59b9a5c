#pragma once
/// backfill-field and rename-field: set a field where it is missing (absent or null), from a
/// constant or from another field of the same document. Never overwrites; never removes.
#include <memory>
#include <optional>
#include <string>

#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

class BackfillField final : public ScopedTransform {
 public:
  /// `updated_at` is stamped on rewritten documents when non-empty (user-visible migrations).
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           std::string updated_at);

 private:
  BackfillField(DocumentScope scope,
                const ContainerSpec& container,
                std::optional<rapidjson::Document> constant,
                std::string updated_at);
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::string from_field_;  ///< empty: the constant
  std::optional<rapidjson::Document> constant_;
};

}  // namespace backfilld::migrations
