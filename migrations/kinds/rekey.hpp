#pragma once
/// rekey: key rotation. Re-encrypts the mapped fields' envelopes sealed under an older kid with
/// the keyring's primary key and the same AAD. Envelopes already under the primary are skipped;
/// plaintext values are not rekey's business (counted "plaintext", left). Decrypted values live
/// only in memory and are wiped after sealing.
#include <memory>
#include <string>

#include "migrations/envelope_fields.hpp"
#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

/// The rekey row: settings EnvelopeFields, counts "rekeyed" and "plaintext", needs keys live.
const Kind& rekey_kind();

class Rekey final : public SealingTransform {
 public:
  /// A null `keyring` classifies by kid only (a dry run without keys).
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const EnvelopeFields& settings,
                                                           const crypto::Keyring* keyring,
                                                           crypto::IvSource iv_source);

 private:
  using SealingTransform::SealingTransform;
  TransformResult apply_in_scope(const InScope& in, TransformResult result) const override;
};

}  // namespace backfilld::migrations
