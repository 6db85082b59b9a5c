#pragma once
/// The encrypt-fields migration kind: seals the mapped top-level fields of each document into
/// envelope v1 (docs/ENVELOPE.md), leaving everything else exactly as it was.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/transform.hpp"

namespace backfilld::migrations {

/// Encrypts ContainerSpec::fields in place, keyed by the owner in ContainerSpec::user_id_field.
class EncryptFields final : public Transform {
 public:
  /// Validates `container` (fields, context, owner field, partition key path; no field may be
  /// one that must stay plaintext) and builds the transform. A null `keyring` classifies only.
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const crypto::Keyring* keyring,
                                                           crypto::IvSource iv_source);

  const std::vector<std::string>& fields() const override { return fields_; }
  using Transform::apply;
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const override;

 private:
  EncryptFields(const ContainerSpec& container,
                std::vector<std::string> partition_key_segments,
                const crypto::Keyring* keyring,
                crypto::IvSource iv_source);

  std::vector<std::string> fields_;
  std::vector<std::string> partition_key_segments_;
  std::string context_;
  std::string user_id_field_;
  std::vector<std::string> skip_owners_;
  const crypto::Keyring* keyring_;
  crypto::IvSource iv_source_;
};

}  // namespace backfilld::migrations
