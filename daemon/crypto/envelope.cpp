#include "daemon/crypto/envelope.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rapidjson/writer.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

#include "daemon/crypto/base64.hpp"

namespace backfilld::crypto {
namespace {

constexpr std::size_t kTagSize = 16;
constexpr std::string_view kAlg = "A256GCM";

// ---- JSON text exactly as JavaScript's JSON.stringify writes it --------------------------------

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

void append_u_escape(char32_t code_unit, std::string& out) {
  const char escape[6] = {'\\',
                          'u',
                          kHexDigits[(code_unit >> 12) & 0xF],
                          kHexDigits[(code_unit >> 8) & 0xF],
                          kHexDigits[(code_unit >> 4) & 0xF],
                          kHexDigits[code_unit & 0xF]};
  out.append(escape, sizeof escape);
}

void append_ascii_escape(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\b':
      out.append("\\b");
      break;
    case '\f':
      out.append("\\f");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    default:
      append_u_escape(c, out);
  }
}

void append_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
}

constexpr char32_t kInvalidSequence = 0xFFFFFFFF;

/// One decoded sequence: a code point (a surrogate when CESU-8 encoded) or kInvalidSequence.
struct Decoded {
  char32_t code_point;
  std::size_t length;  ///< bytes consumed; for an invalid sequence, WHATWG's maximal subpart
};

constexpr bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }
constexpr bool is_high_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDBFF; }
constexpr bool is_low_surrogate(char32_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

/// Decodes the multi-byte sequence at `text[at]` (a byte >= 0x80) as UTF-8, with one extension:
/// ED A0..BF 80..BF is the surrogate code unit it encodes (how RapidJSON stores "\udc00").
/// Anything else invalid consumes what WHATWG's decoder (Node's Buffer.toString) replaces with
/// one U+FFFD.
Decoded decode_sequence(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead == 0xED && at + 2 < text.size() && byte(at + 1) >= 0xA0 &&
      is_continuation(byte(at + 2))) {
    return {0xD000u | ((byte(at + 1) & 0x3Fu) << 6) | (byte(at + 2) & 0x3Fu), 3};
  }
  std::size_t continuations = 0;
  char32_t code_point = 0;
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuations = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) lower = 0xA0;
    if (lead == 0xED) upper = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuations = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) lower = 0x90;
    if (lead == 0xF4) upper = 0x8F;
  } else {
    return {kInvalidSequence, 1};
  }
  for (std::size_t i = 1; i <= continuations; ++i) {
    if (at + i >= text.size() || byte(at + i) < lower || byte(at + i) > upper) {
      return {kInvalidSequence, i};
    }
    lower = 0x80;
    upper = 0xBF;
    code_point = (code_point << 6) | (byte(at + i) & 0x3F);
  }
  return {code_point, continuations + 1};
}

/// Appends `text` as a JSON string, quotes included, byte-equal to JSON.stringify of the
/// JavaScript string it stands for. `text` is read as UTF-8 in which CESU-8 surrogates stand for
/// UTF-16 code units: a lone one is written \udxxx, a high one followed by a low one is the
/// character of the pair. Bytes that are not UTF-8 at all become U+FFFD, exactly as Node decodes
/// them, since no JavaScript string is made of them.
void append_js_string(std::string_view text, std::string& out) {
  out.push_back('"');
  std::size_t copied = 0;  // text[copied, i) is pending, to be appended unchanged
  std::size_t i = 0;
  const auto flush = [&] { out.append(text.data() + copied, i - copied); };
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\') {
        ++i;
        continue;
      }
      flush();
      append_ascii_escape(c, out);
      copied = ++i;
      continue;
    }
    const Decoded decoded = decode_sequence(text, i);
    if (decoded.code_point == kInvalidSequence) {
      flush();
      out.append(kReplacementCharacter);
      copied = i += decoded.length;
    } else if (is_high_surrogate(decoded.code_point) || is_low_surrogate(decoded.code_point)) {
      flush();
      const Decoded next = is_high_surrogate(decoded.code_point) && i + 3 < text.size()
                               ? decode_sequence(text, i + 3)
                               : Decoded{kInvalidSequence, 0};
      if (is_low_surrogate(next.code_point)) {
        append_utf8(0x10000 + ((decoded.code_point - 0xD800) << 10) + (next.code_point - 0xDC00),
                    out);
        i += 6;
      } else {
        append_u_escape(decoded.code_point, out);
        i += 3;
      }
      copied = i;
    } else {
      i += decoded.length;
    }
  }
  flush();
  out.push_back('"');
}

/// A RapidJSON output stream that appends to a std::string.
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string& out) : out_(out) {}
  void Put(char c) { out_.push_back(c); }
  void Flush() {}

 private:
  std::string& out_;
};

/// RapidJSON's compact writer with strings written as JSON.stringify writes them.
class JsJsonWriter : public rapidjson::Writer<StringSink> {
 public:
  JsJsonWriter(StringSink& sink, std::string& out) : Writer(sink), out_(out) {}
  bool String(const char* text, rapidjson::SizeType length, bool /*copy*/ = false) {
    Prefix(rapidjson::kStringType);
    append_js_string(std::string_view(text, length), out_);
    return EndValue(true);
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy = false) {
    return String(text, length, copy);
  }

 private:
  std::string& out_;
};

/// Appends JSON.stringify([context, user_id]).
void append_aad(std::string_view context, std::string_view user_id, std::string& out) {
  out.push_back('[');
  append_js_string(context, out);
  out.push_back(',');
  append_js_string(user_id, out);
  out.push_back(']');
}

void append_plaintext(const rapidjson::Value& value, std::string& out) {
  StringSink sink(out);
  JsJsonWriter writer(sink, out);
  value.Accept(writer);
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
