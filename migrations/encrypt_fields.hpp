#pragma once
/// The encrypt-fields migration kind: seals the mapped top-level fields of each document into
/// envelope v1 (docs/ENVELOPE.md), leaving everything else exactly as it was.
#include <memory>
#include <string>
#include <string_view>

#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// Encrypts ContainerSpec::fields in place, keyed by the owner in ContainerSpec::user_id_field.
class EncryptFields final : public SealingTransform {
 public:
  /// Validates `container` (fields, context, owner field, partition key path; no field may be
  /// one that must stay plaintext) and builds the transform. A null `keyring` classifies only.
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const crypto::Keyring* keyring,
                                                           crypto::IvSource iv_source);

 private:
  using SealingTransform::SealingTransform;
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;
};

}  // namespace backfilld::migrations
