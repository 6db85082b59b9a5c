#include "daemon/common/json_writer.hpp"

#include <rapidjson/internal/dtoa.h>
#include <rapidjson/internal/itoa.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace backfilld::common {
namespace {

static_assert(std::endian::native == std::endian::little, "skip_plain_ascii reads words");

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

/// JSON.stringify's escape of each control character U+0000..U+001F.
constexpr std::string_view kControlEscapes[0x20] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};

/// Longest text of a number: RapidJSON's dtoa writes at most 25 bytes ("-2.2250738585072014e-308").
constexpr std::size_t kMaxNumberLength = 32;

/// Appends to a std::string through a pointer: space is claimed ahead, so a write is a store or a
/// memcpy, not a call into std::string. The string is cut to what was written on destruction.
class Output {
 public:
  Output(std::string& out, std::size_t expected) : out_(out), size_(out.size()) {
    out_.resize(size_ + expected);
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() { out_.resize(size_); }

  /// Room for `length` more bytes; advance() says how many were written.
  char* claim(std::size_t length) {
    if (out_.size() - size_ < length) out_.resize(std::max(2 * out_.size(), size_ + length));
    return out_.data() + size_;
  }
  void advance(std::size_t length) { size_ += length; }

  void append(const char* data, std::size_t length) {
    if (length == 0) return;  // data may be null then (an empty string_view), which memcpy forbids
    std::memcpy(claim(length), data, length);
    size_ += length;
  }
  void append(std::string_view text) { append(text.data(), text.size()); }
  void put(char c) {
    *claim(1) = c;
    ++size_;
  }

 private:
  std::string& out_;
  std::size_t size_;  ///< bytes of out_ written so far; the rest is claimed space
};

// ---- strings ------------------------------------------------------------------------------------

/// True for the bytes JSON.stringify writes unchanged and alone: printable ASCII but `"` and `\`.
constexpr bool is_plain_ascii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/// The high bit of each byte of `word` that is not plain ASCII (see is_plain_ascii), and maybe of
/// some bytes after the first such byte: the lowest bit set is exact.
constexpr std::uint64_t special_bytes(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHighBits = 0x8080808080808080;
  // (x - n) & ~x & high flags the bytes of x below n (n <= 0x80); a borrow can flag a byte above
  // a flagged one too, never below it.
  const auto bytes_below = [](std::uint64_t x, std::uint64_t n) {
    return (x - kOnes * n) & ~x & kHighBits;
  };
  return bytes_below(word, 0x20) | bytes_below(word ^ (kOnes * '"'), 1) |
         bytes_below(word ^ (kOnes * '\\'), 1) | (word & kHighBits);
}

/// The first byte of [at, end) that is not plain ASCII, or end; 8 bytes at a time.
const unsigned char* skip_plain_ascii(const unsigned char* at, const unsigned char* end) {
  while (end - at >= 8) {
    std::uint64_t word;
    std::memcpy(&word, at, sizeof word);
    if (const std::uint64_t special = special_bytes(word); special != 0) {
      return at + std::countr_zero(special) / 8;
    }
    at += 8;
  }
  while (at != end && is_plain_ascii(*at)) ++at;
  return at;
}

constexpr bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

/// The length of the well-formed UTF-8 sequence at `at` (a byte >= 0x80), or 0 when it is not
/// one (surrogates included): the common case, kept small to be inlined.
inline std::size_t valid_sequence_length(const unsigned char* at, const unsigned char* end) {
  const unsigned char lead = at[0];
  const auto available = end - at;
  if (lead < 0xE0) return lead >= 0xC2 && available >= 2 && is_continuation(at[1]) ? 2 : 0;
  if (lead < 0xF0) {
    const unsigned char lower = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char upper = lead == 0xED ? 0x9F : 0xBF;
    return available >= 3 && at[1] >= lower && at[1] <= upper && is_continuation(at[2]) ? 3 : 0;
  }
  const unsigned char lower = lead == 0xF0 ? 0x90 : 0x80;
  const unsigned char upper = lead == 0xF4 ? 0x8F : 0xBF;
  return lead <= 0xF4 && available >= 4 && at[1] >= lower && at[1] <= upper &&
                 is_continuation(at[2]) && is_continuation(at[3])
             ? 4
             : 0;
}

void append_u_escape(char32_t code_unit, Output& out) {
  char* escape = out.claim(6);
  escape[0] = '\\';
  escape[1] = 'u';
  escape[2] = kHexDigits[(code_unit >> 12) & 0xF];
  escape[3] = kHexDigits[(code_unit >> 8) & 0xF];
  escape[4] = kHexDigits[(code_unit >> 4) & 0xF];
  escape[5] = kHexDigits[code_unit & 0xF];
  out.advance(6);
}

/// Appends the escape of an ASCII byte that is not plain: a control character, `"` or `\`.
void append_ascii_escape(unsigned char c, Output& out) {
  if (c < 0x20) {
    out.append(kControlEscapes[c]);
  } else {
    char* escape = out.claim(2);
    escape[0] = '\\';
    escape[1] = static_cast<char>(c);
    out.advance(2);
  }
}

/// The surrogate code unit that the CESU-8 bytes ED A0..BF 80..BF at `at` encode (how RapidJSON
/// stores "\udc00"), or 0 when they are not such bytes.
char32_t cesu8_surrogate(const unsigned char* at, const unsigned char* end) {
  if (end - at < 3 || at[0] != 0xED || at[1] < 0xA0 || at[1] > 0xBF || !is_continuation(at[2])) {
    return 0;
  }
  return 0xD000u | ((at[1] & 0x3Fu) << 6) | (at[2] & 0x3Fu);
}

/// The length of the maximal subpart of an ill-formed sequence at `at`: the bytes WHATWG's UTF-8
/// decoder (Node's Buffer.toString) replaces with one U+FFFD.
std::size_t invalid_sequence_length(const unsigned char* at, const unsigned char* end) {
  const unsigned char lead = at[0];
  std::size_t continuations = 0;
  unsigned char lower = 0x80;
  unsigned char upper = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuations = 2;
    if (lead == 0xE0) lower = 0xA0;
    if (lead == 0xED) upper = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuations = 3;
    if (lead == 0xF0) lower = 0x90;
    if (lead == 0xF4) upper = 0x8F;
  }
  std::size_t length = 1;
  while (length <= continuations && at + length < end && at[length] >= lower &&
         at[length] <= upper) {
    ++length;
    lower = 0x80;
    upper = 0xBF;
  }
  return length;
}

/// Appends what the bytes at `at` that are not well-formed UTF-8 stand for; returns how many
/// bytes that consumed. CESU-8 surrogates are UTF-16 code units: a high one followed by a low
/// one is the character of the pair (4-byte UTF-8), a lone one is written \udxxx. Other bytes
/// become U+FFFD as Node decodes them, since no JavaScript string is made of them.
std::size_t append_irregular(const unsigned char* at, const unsigned char* end, Output& out) {
  const char32_t unit = cesu8_surrogate(at, end);
  if (unit == 0) {
    out.append(kReplacementCharacter);
    return invalid_sequence_length(at, end);
  }
  const char32_t next = unit < 0xDC00 ? cesu8_surrogate(at + 3, end) : 0;
  if (next < 0xDC00) {
    append_u_escape(unit, out);
    return 3;
  }
  const char32_t code_point = 0x10000 + ((unit - 0xD800) << 10) + (next - 0xDC00);
  char* encoded = out.claim(4);
  encoded[0] = static_cast<char>(0xF0 | (code_point >> 18));
  encoded[1] = static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
  encoded[2] = static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
  encoded[3] = static_cast<char>(0x80 | (code_point & 0x3F));
  out.advance(4);
  return 6;
}

void append_string(std::string_view text, Output& out) {
  const auto* at = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = at + text.size();
  const auto* pending = at;  // [pending, at) is appended unchanged, in one piece
  const auto flush = [&] {
    out.append(reinterpret_cast<const char*>(pending), static_cast<std::size_t>(at - pending));
  };
  out.put('"');
  while ((at = skip_plain_ascii(at, end)) != end) {
    if (*at >= 0x80) {
      if (const std::size_t length = valid_sequence_length(at, end); length != 0) {
        at += length;  // well-formed UTF-8 stays in the pending run
        continue;
      }
      flush();
      at += append_irregular(at, end, out);
    } else {
      flush();
      append_ascii_escape(*at, out);
      ++at;
    }
    pending = at;
  }
  flush();
  out.put('"');
}

// ---- values -------------------------------------------------------------------------------------

void append_number(const rapidjson::Value& value, Output& out) {
  char* text = out.claim(kMaxNumberLength);
  char* end = text;
  if (value.IsDouble()) {
    const double number = value.GetDouble();
    if (!std::isfinite(number)) {
      out.append("null");
      return;
    }
    end = rapidjson::internal::dtoa(number, text);  // what rapidjson::Writer::Double writes
  } else if (value.IsInt64()) {
    end = rapidjson::internal::i64toa(value.GetInt64(), text);
  } else {
    end = rapidjson::internal::u64toa(value.GetUint64(), text);
  }
  out.advance(static_cast<std::size_t>(end - text));
}

std::string_view string_of(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

void append_value(const rapidjson::Value& value, Output& out) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      out.append("null");
      return;
    case rapidjson::kFalseType:
      out.append("false");
      return;
    case rapidjson::kTrueType:
      out.append("true");
      return;
    case rapidjson::kStringType:
      append_string(string_of(value), out);
      return;
    case rapidjson::kNumberType:
      append_number(value, out);
      return;
    case rapidjson::kObjectType: {
      char separator = '{';
      for (const auto& member : value.GetObject()) {
        out.put(separator);
        append_string(string_of(member.name), out);
        out.put(':');
        append_value(member.value, out);
        separator = ',';
      }
      out.append(separator == '{' ? "{}" : "}");
      return;
    }
    case rapidjson::kArrayType: {
      char separator = '[';
      for (const auto& element : value.GetArray()) {
        out.put(separator);
        append_value(element, out);
        separator = ',';
      }
      out.append(separator == '[' ? "[]" : "]");
      return;
    }
  }
}

/// The size of `value`'s text when no string needs an escape (the common case), numbers at
/// their longest: what to claim up front.
std::size_t expected_size(const rapidjson::Value& value) {
  switch (value.GetType()) {
    case rapidjson::kStringType:
      return value.GetStringLength() + 2;
    case rapidjson::kNumberType:
      return kMaxNumberLength;
    case rapidjson::kObjectType: {
      std::size_t size = 2;
      for (const auto& member : value.GetObject()) {
        size += member.name.GetStringLength() + 4 + expected_size(member.value);
      }
      return size;
    }
    case rapidjson::kArrayType: {
      std::size_t size = 2;
      for (const auto& element : value.GetArray()) size += expected_size(element) + 1;
      return size;
    }
    default:
      return 5;
  }
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  Output output(out, text.size() + 2);
  append_string(text, output);
}

void append_json(const rapidjson::Value& value, std::string& out) {
  Output output(out, expected_size(value));
  append_value(value, output);
}

std::string to_json(const rapidjson::Value& value) {
  std::string out;
  append_json(value, out);
  return out;
}

}  // namespace backfilld::common
