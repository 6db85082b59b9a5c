#pragma once
/// rekey: key rotation. Re-encrypts the mapped fields' envelopes sealed under an older kid with
/// the keyring's primary key and the same AAD. Envelopes already under the primary are skipped;
/// plaintext values are not rekey's business (counted "plaintext", left). Decrypted values live
/// only in memory and are wiped after sealing.
#include <memory>
#include <string>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

class Rekey final : public Transform {
 public:
  /// A null `keyring` classifies by kid only (a dry run without keys).
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const crypto::Keyring* keyring,
                                                           crypto::IvSource iv_source);

  const std::vector<std::string>& fields() const override { return fields_; }
  using Transform::apply;
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const override;

 private:
  Rekey(DocumentScope scope,
        const ContainerSpec& container,
        const crypto::Keyring* keyring,
        crypto::IvSource iv_source);

  DocumentScope scope_;
  std::vector<std::string> fields_;
  std::string context_;
  const crypto::Keyring* keyring_;
  crypto::IvSource iv_source_;
};

}  // namespace backfilld::migrations
