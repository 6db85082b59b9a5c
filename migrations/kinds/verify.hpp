#pragma once
/// verify: reads an encryption manifest's field map and checks every mapped value: an envelope
/// that decrypts under a known kid with the document's AAD is "verified"; a plaintext value is
/// counted "plaintext"; a malformed envelope, an unknown kid or a failed tag (wrong key, wrong
/// AAD, tampered bytes) is an error of that field. Never writes, live or dry; the decrypted
/// text is wiped at once and never reported.
#include <memory>
#include <string>

#include "migrations/envelope_fields.hpp"
#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// The verify row: settings EnvelopeFields, counts "verified" and "plaintext", never writes,
/// always needs keys. After the scan it counts plaintext values by query and fails the run
/// unless that count and the scan's undecryptable and plaintext values are all zero.
const Kind& verify_kind();

class Verify final : public ScopedTransform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const EnvelopeFields& settings,
                                                           const crypto::Keyring* keyring);

 private:
  Verify(DocumentScope scope, const EnvelopeFields& settings, const crypto::Keyring& keyring);
  /// Outcome kUnchanged: findings are per field.
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;

  std::string context_;
  const crypto::Keyring& keyring_;
};

}  // namespace backfilld::migrations
