#include "migrations/transform.hpp"

#include "migrations/encrypt_fields.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> make_transform(const Manifest& manifest,
                                                          const ContainerSpec& container,
                                                          const crypto::Keyring* keyring,
                                                          crypto::IvSource iv_source) {
  if (manifest.kind == kEncryptFieldsKind) {
    return EncryptFields::create(container, keyring, std::move(iv_source));
  }
  return common::fail("invalid_manifest", "unknown migration kind \"" + manifest.kind +
                                              "\" (known: " + std::string(kEncryptFieldsKind) +
                                              ")");
}

}  // namespace backfilld::migrations
