#pragma once
/// The keyring: AES-256 keys by id. One primary key encrypts; older keys only decrypt, so keys
/// rotate without downtime. Key bytes never leave this type in text form.
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/env.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::crypto {

/// One AES-256 key.
using KeyBytes = std::array<unsigned char, 32>;

/// The seam the transforms use; tests build a StaticKeyring from fixed keys.
class Keyring {
 public:
  virtual ~Keyring() = default;
  /// Key id used for new envelopes.
  virtual const std::string& primary_kid() const = 0;
  /// The key named `kid`, or nullptr when this keyring does not hold it.
  virtual const KeyBytes* find(std::string_view kid) const = 0;
  /// Where the keys came from, for the release record: "env" or "file".
  virtual const std::string& provider() const = 0;
};

/// A keyring held in memory.
class StaticKeyring final : public Keyring {
 public:
  StaticKeyring(std::string provider,
                std::string primary_kid,
                std::map<std::string, KeyBytes> keys);
  /// Clears the key bytes.
  ~StaticKeyring() override;
  const std::string& primary_kid() const override { return primary_kid_; }
  const KeyBytes* find(std::string_view kid) const override;
  const std::string& provider() const override { return provider_; }

 private:
  std::string provider_;
  std::string primary_kid_;
  std::map<std::string, KeyBytes, std::less<>> keys_;
};

using common::EnvLookup;

/// Loads the keyring named by FIELD_ENCRYPT_KEY_PROVIDER:
/// - `env`: FIELD_ENCRYPT_KEY (base64 of 32 bytes) and FIELD_ENCRYPT_KEY_ID;
/// - `file`: FIELD_ENCRYPT_KEYRING_FILE, JSON `{"primary": "k2", "keys": {"k1": "<b64>", ...}}`;
/// - `akv`: refused, not supported yet.
/// Errors (code "keyring") name the variable, file or key id at fault, never key bytes.
common::Result<std::unique_ptr<Keyring>> load_keyring(const EnvLookup& env);

/// True when FIELD_ENCRYPT_ENABLED is "true" (the live gate's first condition).
bool encryption_enabled(const EnvLookup& env);

}  // namespace backfilld::crypto
