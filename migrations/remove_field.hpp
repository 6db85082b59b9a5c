#pragma once
/// remove-field: the later release of a rename. Removes a field, but only from documents that
/// carry the field that replaced it; a document without it is an error and is left untouched
/// (the engine also refuses to start while any such document exists: docs/MANIFEST.md).
#include <memory>
#include <string>

#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

class RemoveField final : public ScopedTransform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           std::string updated_at);

 private:
  RemoveField(DocumentScope scope, const ContainerSpec& container, std::string updated_at);
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::string require_field_;
};

}  // namespace backfilld::migrations
