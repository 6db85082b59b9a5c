#include "daemon/crypto/envelope.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

#include "daemon/common/json.hpp"
#include "daemon/crypto/base64.hpp"

namespace backfilld::crypto {
namespace {

constexpr std::size_t kTagSize = 16;
constexpr std::string_view kAlg = "A256GCM";

/// Appends JSON.stringify([context, user_id]).
void append_aad(std::string_view context, std::string_view user_id, std::string& out) {
  out.push_back('[');
  common::append_js_string(context, out);
  out.push_back(',');
  common::append_js_string(user_id, out);
  out.push_back(']');
}

/// The plaintext: the value's JSON text, strings exactly as JSON.stringify writes them.
void append_plaintext(const rapidjson::Value& value, std::string& out) {
  common::append_json(value, out);
}

// ---- AES-256-GCM --------------------------------------------------------------------------------

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

/// This thread's cipher context, bound to AES-256-GCM once (the default IV length, 12 bytes, is
/// the envelope's); each operation only sets key and IV, which resets the GCM state.
EVP_CIPHER_CTX* thread_cipher_ctx() {
  thread_local const CipherCtx ctx = [] {
    CipherCtx made(EVP_CIPHER_CTX_new());
    if (!made ||
        EVP_CipherInit_ex(made.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, 1) != 1) {
      std::abort();  // OpenSSL without AES-GCM or out of memory: nothing can be encrypted
    }
    return made;
  }();
  return ctx.get();
}

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

/// Writes ciphertext || tag (plaintext.size() + 16 bytes) to `out`.
bool gcm_seal(const KeyBytes& key,
              const Iv& iv,
              std::string_view aad,
              std::string_view plaintext,
              unsigned char* out) {
  EVP_CIPHER_CTX* ctx = thread_cipher_ctx();
  int length = 0;
  return EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), iv.data()) == 1 &&
         EVP_EncryptUpdate(ctx, nullptr, &length, bytes_of(aad), static_cast<int>(aad.size())) ==
             1 &&
         EVP_EncryptUpdate(ctx, out, &length, bytes_of(plaintext),
                           static_cast<int>(plaintext.size())) == 1 &&
         EVP_EncryptFinal_ex(ctx, out + length, &length) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                             out + plaintext.size()) == 1;
}

/// Writes the plaintext of ciphertext || tag to `out` when the tag verifies.
bool gcm_open(const KeyBytes& key,
              const Iv& iv,
              std::string_view aad,
              std::string_view ciphertext_and_tag,
              unsigned char* out) {
  EVP_CIPHER_CTX* ctx = thread_cipher_ctx();
  const std::size_t ciphertext_size = ciphertext_and_tag.size() - kTagSize;
  unsigned char tag[kTagSize];
  std::memcpy(tag, ciphertext_and_tag.data() + ciphertext_size, kTagSize);
  int length = 0;
  return EVP_DecryptInit_ex(ctx, nullptr, nullptr, key.data(), iv.data()) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &length, bytes_of(aad), static_cast<int>(aad.size())) ==
             1 &&
         EVP_DecryptUpdate(ctx, out, &length, bytes_of(ciphertext_and_tag),
                           static_cast<int>(ciphertext_size)) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) == 1 &&
         EVP_DecryptFinal_ex(ctx, out + length, &length) == 1;
}

bool fits_in_int(std::size_t size) { return size <= static_cast<std::size_t>(INT_MAX) - kTagSize; }

/// The primary key, or the error that the keyring lacks it.
common::Result<const KeyBytes*> primary_key(const Keyring& keyring) {
  const KeyBytes* key = keyring.find(keyring.primary_kid());
  if (key == nullptr) {
    return common::fail("unknown_kid", "the keyring holds no key for its primary kid \"" +
                                           keyring.primary_kid() + "\"");
  }
  return key;
}

// ---- Envelope JSON ------------------------------------------------------------------------------

/// A string value of the base64 text of `bytes`. It owns its copy: RapidJSON copies a
/// document's const strings by reference, so a StringRef into the pool would dangle in copies.
rapidjson::Value base64_value(std::span<const unsigned char> bytes,
                              rapidjson::Document::AllocatorType& allocator) {
  thread_local std::string text;
  text.resize(base64_encoded_size(bytes.size()));
  base64_encode_to(bytes, text.data());
  return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

void write_envelope_fields(std::string_view kid,
                           const Iv& iv,
                           std::span<const unsigned char> ciphertext_and_tag,
                           rapidjson::Value& out,
                           rapidjson::Document::AllocatorType& allocator) {
  out.SetObject();
  out.AddMember("__encrypted", true, allocator);
  out.AddMember("v", 1, allocator);
  out.AddMember("alg", rapidjson::StringRef(kAlg.data(), kAlg.size()), allocator);
  out.AddMember(
      "kid", rapidjson::Value(kid.data(), static_cast<rapidjson::SizeType>(kid.size()), allocator),
      allocator);
  out.AddMember("iv", base64_value(iv, allocator), allocator);
  out.AddMember("ct", base64_value(ciphertext_and_tag, allocator), allocator);
}

common::Unexpected<common::Error> malformed(std::string message) {
  return common::fail("malformed_envelope", std::move(message));
}

/// The base64 member `name` of an envelope, decoded.
common::Result<std::string> decode_member(const rapidjson::Value& envelope, const char* name) {
  auto member = envelope.FindMember(name);
  if (member == envelope.MemberEnd() || !member->value.IsString()) {
    return malformed(std::string("\"") + name + "\" must be a base64 string");
  }
  auto decoded =
      base64_decode(std::string_view(member->value.GetString(), member->value.GetStringLength()));
  if (!decoded.ok()) {
    return malformed(std::string("\"") + name +
                     "\" is not valid base64: " + decoded.error().message);
  }
  return decoded;
}

}  // namespace

Iv random_iv() {
  Iv iv;
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1) {
    std::abort();  // a reused or predictable GCM IV breaks the cipher; never continue without one
  }
  return iv;
}

std::string make_aad(std::string_view context, std::string_view user_id) {
  std::string aad;
  aad.reserve(context.size() + user_id.size() + 7);
  append_aad(context, user_id, aad);
  return aad;
}

std::string plaintext_of(const rapidjson::Value& value) {
  std::string text;
  append_plaintext(value, text);
  return text;
}

bool is_envelope(const rapidjson::Value& value) {
  if (!value.IsObject()) return false;
  auto marker = value.FindMember("__encrypted");
  return marker != value.MemberEnd() && marker->value.IsTrue();
}

common::Result<Envelope> parse_envelope(const rapidjson::Value& value) {
  if (!is_envelope(value)) return malformed("not an envelope: \"__encrypted\" is not true");
  auto version = value.FindMember("v");
  if (version == value.MemberEnd() || !version->value.IsNumber() ||
      version->value.GetDouble() != 1.0) {
    return malformed("\"v\" must be 1");
  }
  auto alg = value.FindMember("alg");
  if (alg == value.MemberEnd() || !alg->value.IsString() ||
      std::string_view(alg->value.GetString(), alg->value.GetStringLength()) != kAlg) {
    return malformed("\"alg\" must be \"A256GCM\"");
  }
  auto kid = value.FindMember("kid");
  if (kid == value.MemberEnd() || !kid->value.IsString() || kid->value.GetStringLength() == 0) {
    return malformed("\"kid\" must be a non-empty string");
  }
  auto iv = decode_member(value, "iv");
  if (!iv.ok()) return common::Unexpected{iv.error()};
  Envelope envelope;
  if (iv->size() != envelope.iv.size()) {
    return malformed("\"iv\" must be 12 bytes, got " + std::to_string(iv->size()));
  }
  auto ciphertext = decode_member(value, "ct");
  if (!ciphertext.ok()) return common::Unexpected{ciphertext.error()};
  if (ciphertext->size() < kTagSize) {
    return malformed("\"ct\" must hold at least the 16-byte tag, got " +
                     std::to_string(ciphertext->size()) + " bytes");
  }
  envelope.kid.assign(kid->value.GetString(), kid->value.GetStringLength());
  std::memcpy(envelope.iv.data(), iv->data(), envelope.iv.size());
  envelope.ciphertext_and_tag = std::move(*ciphertext);
  return envelope;
}

common::Result<Envelope> seal(const Keyring& keyring,
                              std::string_view plaintext,
                              std::string_view aad,
                              const Iv& iv) {
  auto key = primary_key(keyring);
  if (!key.ok()) return common::Unexpected{key.error()};
  if (!fits_in_int(plaintext.size()) || !fits_in_int(aad.size())) {
    return common::fail("too_large", "plaintext or AAD is too large to seal");
  }
  Envelope envelope{keyring.primary_kid(), iv, std::string(plaintext.size() + kTagSize, '\0')};
  if (!gcm_seal(**key, iv, aad, plaintext,
                reinterpret_cast<unsigned char*>(envelope.ciphertext_and_tag.data()))) {
    return common::fail("encrypt_failed", "AES-256-GCM encryption failed");
  }
  return envelope;
}

common::Result<std::string> open(const Keyring& keyring,
                                 const Envelope& envelope,
                                 std::string_view aad) {
  const KeyBytes* key = keyring.find(envelope.kid);
  if (key == nullptr) {
    return common::fail("unknown_kid", "the keyring holds no key for kid \"" + envelope.kid + "\"");
  }
  if (envelope.ciphertext_and_tag.size() < kTagSize) {
    return malformed("\"ct\" must hold at least the 16-byte tag");
  }
  if (!fits_in_int(envelope.ciphertext_and_tag.size()) || !fits_in_int(aad.size())) {
    return common::fail("too_large", "ciphertext or AAD is too large to open");
  }
  std::string plaintext(envelope.ciphertext_and_tag.size() - kTagSize, '\0');
  if (!gcm_open(*key, envelope.iv, aad, envelope.ciphertext_and_tag,
                reinterpret_cast<unsigned char*>(plaintext.data()))) {
    // GCM decrypts before it verifies: what was written is unauthenticated, so it is wiped.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return common::fail("decrypt_failed", "authentication failed for kid \"" + envelope.kid +
                                              "\" (wrong key, wrong AAD or tampered iv/ct)");
  }
  return plaintext;
}

void write_envelope(const Envelope& envelope,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator) {
  write_envelope_fields(
      envelope.kid, envelope.iv,
      std::span(bytes_of(envelope.ciphertext_and_tag), envelope.ciphertext_and_tag.size()), out,
      allocator);
}

common::Result<void> seal_value(const Keyring& keyring,
                                std::string_view context,
                                std::string_view user_id,
                                const Iv& iv,
                                const rapidjson::Value& value,
                                rapidjson::Value& out,
                                rapidjson::Document::AllocatorType& allocator) {
  auto key = primary_key(keyring);
  if (!key.ok()) return common::Unexpected{key.error()};
  // Reused per thread: the hot path allocates only the envelope's strings, in the document.
  thread_local std::string plaintext;
  thread_local std::string aad;
  thread_local std::string sealed;
  plaintext.clear();
  append_plaintext(value, plaintext);
  aad.clear();
  append_aad(context, user_id, aad);
  if (!fits_in_int(plaintext.size()) || !fits_in_int(aad.size())) {
    return common::fail("too_large", "value or AAD is too large to seal");
  }
  sealed.resize(plaintext.size() + kTagSize);
  auto* sealed_bytes = reinterpret_cast<unsigned char*>(sealed.data());
  if (!gcm_seal(**key, iv, aad, plaintext, sealed_bytes)) {
    return common::fail("encrypt_failed", "AES-256-GCM encryption failed");
  }
  write_envelope_fields(keyring.primary_kid(), iv, std::span(sealed_bytes, sealed.size()), out,
                        allocator);
  return {};
}

common::Result<void> encrypt_in_place(const Keyring& keyring,
                                      std::string_view context,
                                      std::string_view user_id,
                                      const Iv& iv,
                                      rapidjson::Value& value,
                                      rapidjson::Document::AllocatorType& allocator) {
  rapidjson::Value envelope;
  auto sealed = seal_value(keyring, context, user_id, iv, value, envelope, allocator);
  if (!sealed.ok()) return sealed;
  value = envelope;  // RapidJSON assignment moves
  return {};
}

}  // namespace backfilld::crypto
