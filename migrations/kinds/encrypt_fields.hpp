#pragma once
/// The encrypt-fields migration kind: seals the mapped top-level fields of each document into
/// envelope v1 (docs/ENVELOPE.md), leaving everything else exactly as it was.
#include <memory>
#include <string>
#include <string_view>

#include "migrations/envelope_fields.hpp"
#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// The encrypt-fields row: settings EnvelopeFields, counts "encrypted", needs keys live.
const Kind& encrypt_fields_kind();

/// Encrypts the mapped fields in place, keyed by the owner in EnvelopeFields::user_id_field.
class EncryptFields final : public SealingTransform {
 public:
  /// Validates `settings` of `container` (fields, context, owner field, partition key path; no
  /// field may be one that must stay plaintext) and builds the transform. A null `keyring`
  /// classifies only.
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const EnvelopeFields& settings,
                                                           const crypto::Keyring* keyring,
                                                           crypto::IvSource iv_source);

 private:
  using SealingTransform::SealingTransform;
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;
};

}  // namespace backfilld::migrations
