#pragma once
/// backfill-field and rename-field: set a field where it is missing (absent or null), from a
/// constant or from another field of the same document. Never overwrites; never removes.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

class BackfillField final : public Transform {
 public:
  /// `updated_at` is stamped on rewritten documents when non-empty (user-visible migrations).
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           std::string updated_at);

  const std::vector<std::string>& fields() const override { return fields_; }
  using Transform::apply;
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const override;

 private:
  BackfillField(DocumentScope scope,
                const ContainerSpec& container,
                std::optional<rapidjson::Document> constant,
                std::string updated_at);

  DocumentScope scope_;
  std::vector<std::string> fields_;  ///< the one field set
  std::string from_field_;           ///< empty: the constant
  std::optional<rapidjson::Document> constant_;
  std::string updated_at_;
};

}  // namespace backfilld::migrations
