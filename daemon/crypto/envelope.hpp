#pragma once
/// Encrypted field envelope v1 (docs/ENVELOPE.md):
/// {"__encrypted": true, "v": 1, "alg": "A256GCM", "kid": "k2", "iv": "<b64 12 bytes>",
///  "ct": "<b64 ciphertext || 16-byte tag>"}
/// AES-256-GCM; plaintext is the JSON text of the original value; AAD is the UTF-8 text of
/// JavaScript's JSON.stringify([context, userId]).
#include <rapidjson/document.h>

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include "daemon/common/result.hpp"
#include "daemon/crypto/keyring.hpp"

namespace backfilld::crypto {

using Iv = std::array<unsigned char, 12>;

/// Source of IVs: random (RAND_bytes) in production, fixed in test vectors.
using IvSource = std::function<Iv()>;

/// 12 bytes from OpenSSL's CSPRNG; aborts if the CSPRNG fails (nothing safe to do then).
Iv random_iv();

/// Exactly the bytes of JavaScript's JSON.stringify([context, user_id]) for two strings
/// (short escapes for \b \f \n \r \t, \u00xx lowercase for other control characters, raw UTF-8,
/// lone surrogates escaped as \udxxx). Input is UTF-8 whose CESU-8 surrogates stand for UTF-16
/// code units; bytes that are not UTF-8 become U+FFFD as Node decodes them (docs/ENVELOPE.md).
std::string make_aad(std::string_view context, std::string_view user_id);

/// JSON text of `value` as the plaintext to seal (JSON.parse in the app recovers it).
std::string plaintext_of(const rapidjson::Value& value);

/// True when `value` is an object with "__encrypted": true (already encrypted: skip it).
bool is_envelope(const rapidjson::Value& value);

/// A parsed envelope v1.
struct Envelope {
  std::string kid;
  Iv iv{};
  std::string ciphertext_and_tag;  ///< raw bytes
};

/// Parses an object marked "__encrypted": true. Errors (code "malformed_envelope") say what is
/// wrong: wrong v or alg, missing or non-string kid, iv not 12 bytes of base64, ct shorter than
/// the tag or not base64.
common::Result<Envelope> parse_envelope(const rapidjson::Value& value);

/// Seals `plaintext` under the keyring's primary key and `iv`.
common::Result<Envelope> seal(const Keyring& keyring,
                              std::string_view plaintext,
                              std::string_view aad,
                              const Iv& iv);

/// Opens `envelope`: code "unknown_kid" when the keyring lacks its key, "decrypt_failed" when
/// the tag does not verify (wrong key, wrong AAD or tampered bytes).
common::Result<std::string> open(const Keyring& keyring,
                                 const Envelope& envelope,
                                 std::string_view aad);

/// Writes `envelope` as a v1 JSON object into `out` (replacing what was there).
void write_envelope(const Envelope& envelope,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator);

/// Writes into `out` the envelope of `value`'s JSON text under the primary key, leaving `value`
/// as it is, so that a caller can seal several values and commit them only if all succeed.
common::Result<void> seal_value(const Keyring& keyring,
                                std::string_view context,
                                std::string_view user_id,
                                const Iv& iv,
                                const rapidjson::Value& value,
                                rapidjson::Value& out,
                                rapidjson::Document::AllocatorType& allocator);

/// Encrypts one field value in place: `value` becomes the envelope of its JSON text (and stays
/// as it was on error).
common::Result<void> encrypt_in_place(const Keyring& keyring,
                                      std::string_view context,
                                      std::string_view user_id,
                                      const Iv& iv,
                                      rapidjson::Value& value,
                                      rapidjson::Document::AllocatorType& allocator);

}  // namespace backfilld::crypto
