#include "daemon/crypto/keyring.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "daemon/common/json.hpp"
#include "daemon/crypto/base64.hpp"

namespace backfilld::crypto {
namespace {

constexpr std::string_view kProviderVar = "FIELD_ENCRYPT_KEY_PROVIDER";
constexpr std::string_view kKeyVar = "FIELD_ENCRYPT_KEY";
constexpr std::string_view kKeyIdVar = "FIELD_ENCRYPT_KEY_ID";
constexpr std::string_view kKeyringFileVar = "FIELD_ENCRYPT_KEYRING_FILE";
constexpr std::string_view kEnabledVar = "FIELD_ENCRYPT_ENABLED";

void scrub(std::string& secret) { OPENSSL_cleanse(secret.data(), secret.size()); }
void scrub(KeyBytes& key) { OPENSSL_cleanse(key.data(), key.size()); }
void scrub(std::map<std::string, KeyBytes>& keys) {
  for (auto& [kid, key] : keys) scrub(key);
}

/// Clears memory that held key material when it goes out of scope, on every return path.
template <class Secret>
class ScrubOnExit {
 public:
  explicit ScrubOnExit(Secret& secret) : secret_(secret) {}
  ScrubOnExit(const ScrubOnExit&) = delete;
  ScrubOnExit& operator=(const ScrubOnExit&) = delete;
  ~ScrubOnExit() { scrub(secret_); }

 private:
  Secret& secret_;
};

common::Unexpected<common::Error> keyring_error(std::string message) {
  return common::fail("keyring", std::move(message));
}

std::string_view trim_ascii_space(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

/// Decodes the base64 text of one AES-256 key; `what` names where it came from in errors.
common::Result<KeyBytes> decode_key(std::string_view base64_text, const std::string& what) {
  auto decoded = base64_decode(base64_text);
  if (!decoded.ok())
    return keyring_error(what + " is not valid base64: " + decoded.error().message);
  ScrubOnExit scrub_decoded(*decoded);
  KeyBytes key{};
  if (decoded->size() != key.size()) {
    return keyring_error(what + " must be base64 of exactly 32 bytes, got " +
                         std::to_string(decoded->size()) + " bytes");
  }
  std::memcpy(key.data(), decoded->data(), key.size());
  return key;
}

/// A non-empty value of `name`, trimmed of surrounding whitespace (a trailing newline from a
/// mounted secret is common), or nullopt.
std::optional<std::string> non_empty(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value) return std::nullopt;
  ScrubOnExit scrub_value(*value);
  std::string trimmed(trim_ascii_space(*value));
  if (trimmed.empty()) return std::nullopt;
  return trimmed;
}

common::Result<std::unique_ptr<Keyring>> load_from_env(const EnvLookup& env) {
  auto key_text = non_empty(env, kKeyVar);
  if (!key_text) {
    return keyring_error(std::string(kKeyVar) + " is not set (needed by " +
                         std::string(kProviderVar) + "=env)");
  }
  ScrubOnExit scrub_key_text(*key_text);
  auto kid = non_empty(env, kKeyIdVar);
  if (!kid) {
    return keyring_error(std::string(kKeyIdVar) + " is not set or empty (needed by " +
                         std::string(kProviderVar) + "=env)");
  }
  auto key = decode_key(*key_text, std::string(kKeyVar));
  if (!key.ok()) return common::Unexpected{key.error()};
  ScrubOnExit scrub_key(*key);
  return std::make_unique<StaticKeyring>("env", *kid,
                                         std::map<std::string, KeyBytes>{{*kid, *key}});
}

common::Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return keyring_error("cannot read keyring file " + path + " (" + std::string(kKeyringFileVar) +
                         "): " + std::strerror(errno));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    scrub(text);
    return keyring_error("cannot read keyring file " + path + " (" + std::string(kKeyringFileVar) +
                         "): read error");
  }
  return text;
}

common::Result<std::unique_ptr<Keyring>> load_from_file(const EnvLookup& env) {
  auto path = non_empty(env, kKeyringFileVar);
  if (!path) {
    return keyring_error(std::string(kKeyringFileVar) + " is not set (needed by " +
                         std::string(kProviderVar) + "=file)");
  }
  auto text = read_file(*path);
  if (!text.ok()) return common::Unexpected{text.error()};
  ScrubOnExit scrub_text(*text);
  const std::string where = "keyring file " + *path;

  // Parsed in place so that the key text lives only in `text`, which is scrubbed on exit.
  rapidjson::Document json;
  if (const auto failure = common::parse_exact_in_place(json, text->data())) {
    return keyring_error(where + " is not valid JSON: offset " + std::to_string(failure->offset) +
                         ": " + failure->reason);
  }
  if (!json.IsObject()) return keyring_error(where + " must hold a JSON object");
  auto primary = json.FindMember("primary");
  if (primary == json.MemberEnd() || !primary->value.IsString() ||
      primary->value.GetStringLength() == 0) {
    return keyring_error(where + ": \"primary\" must be a non-empty string (a key id)");
  }
  auto keys_member = json.FindMember("keys");
  if (keys_member == json.MemberEnd() || !keys_member->value.IsObject() ||
      keys_member->value.MemberCount() == 0) {
    return keyring_error(where + ": \"keys\" must be a non-empty object of key id -> base64 key");
  }

  std::map<std::string, KeyBytes> keys;
  ScrubOnExit scrub_keys(keys);
  for (const auto& entry : keys_member->value.GetObject()) {
    std::string kid(entry.name.GetString(), entry.name.GetStringLength());
    const std::string what = where + ": keys[\"" + kid + "\"]";
    if (kid.empty()) return keyring_error(where + ": a key id in \"keys\" is empty");
    if (keys.contains(kid)) return keyring_error(what + " appears more than once");
    if (!entry.value.IsString()) return keyring_error(what + " must be a base64 string");
    auto key =
        decode_key(std::string_view(entry.value.GetString(), entry.value.GetStringLength()), what);
    if (!key.ok()) return common::Unexpected{key.error()};
    ScrubOnExit scrub_key(*key);
    keys.emplace(std::move(kid), *key);
  }
  std::string primary_kid(primary->value.GetString(), primary->value.GetStringLength());
  if (!keys.contains(primary_kid)) {
    return keyring_error(where + ": primary key id \"" + primary_kid + "\" is not in \"keys\"");
  }
  return std::make_unique<StaticKeyring>("file", std::move(primary_kid), keys);
}

}  // namespace

StaticKeyring::StaticKeyring(std::string provider,
                             std::string primary_kid,
                             std::map<std::string, KeyBytes> keys)
    : provider_(std::move(provider)),
      primary_kid_(std::move(primary_kid)),
      keys_(keys.begin(), keys.end()) {
  scrub(keys);
}

StaticKeyring::~StaticKeyring() {
  for (auto& [kid, key] : keys_) scrub(key);
}

const KeyBytes* StaticKeyring::find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

common::Result<std::unique_ptr<Keyring>> load_keyring(const EnvLookup& env) {
  const auto provider = non_empty(env, kProviderVar);
  if (!provider) {
    return keyring_error(std::string(kProviderVar) + " is not set (expected env or file)");
  }
  if (*provider == "env") return load_from_env(env);
  if (*provider == "file") return load_from_file(env);
  if (*provider == "akv") {
    return keyring_error(std::string(kProviderVar) + "=akv is not supported yet");
  }
  // A long value is no provider name; it may be a secret pasted into the wrong variable.
  constexpr std::size_t kMaxEchoed = 16;
  const std::string shown = provider->size() <= kMaxEchoed
                                ? "\"" + *provider + "\""
                                : "a " + std::to_string(provider->size()) + "-character value";
  return keyring_error(std::string(kProviderVar) + "=" + shown +
                       " is not a known key provider (expected env or file)");
}

bool encryption_enabled(const EnvLookup& env) { return env(kEnabledVar) == "true"; }

}  // namespace backfilld::crypto
