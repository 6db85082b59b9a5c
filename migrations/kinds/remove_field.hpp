#pragma once
/// remove-field: the later release of a rename. Removes a field, but only from documents that
/// carry the field that replaced it; a document without it is an error and is left untouched
/// (the engine also refuses to start while any such document exists: docs/MANIFEST.md).
#include <memory>
#include <string>

#include "migrations/kind.hpp"
#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// {"field": "tags", "requireField": "labels"}.
struct RemoveFieldSettings {
  std::string field;  ///< the field removed (and counted); "" when the manifest's is refused
  std::string require_field;

  bool operator==(const RemoveFieldSettings&) const = default;
};

/// The remove-field row: settings RemoveFieldSettings, stamps updatedAt when user-visible. Before
/// the scan it counts the documents that have `field` but lack `requireField`; a live run with
/// any is refused before it writes (a dry run records the figure and goes on).
const Kind& remove_field_kind();

class RemoveField final : public ScopedTransform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const RemoveFieldSettings& settings,
                                                           std::string updated_at);

 private:
  RemoveField(DocumentScope scope, const RemoveFieldSettings& settings, std::string updated_at);
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::string require_field_;
};

}  // namespace backfilld::migrations
