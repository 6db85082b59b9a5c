#include "daemon/common/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/writer.h>

#include <utility>

namespace backfilld::common {
namespace {

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

}  // namespace

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

namespace {

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

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The code unit of the \uXXXX escape at text[at] ('\\' at `at`), or -1 when there is none.
long u_escape_at(std::string_view text, std::size_t at) {
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
  long unit = 0;
  for (std::size_t k = at + 2; k < at + 6; ++k) {
    const int digit = hex_value(text[k]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

/// Where the next lone surrogate escape starts at or after `from`, or npos. Every backslash in
/// JSON text starts an escape (outside strings there are none), so escapes are skipped whole and
/// "\\ud800" (a backslash, then "ud800") is never mistaken for one.
std::size_t find_lone_surrogate_escape(std::string_view text, std::size_t from) {
  for (std::size_t at = text.find('\\', from); at != std::string_view::npos;
       at = text.find('\\', at)) {
    const long unit = u_escape_at(text, at);
    if (unit < 0) {
      at += 2;  // \" \\ \/ \b \f \n \r \t (or malformed: the parser will say so)
      continue;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const long next = u_escape_at(text, at + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        at += 12;  // a pair: one character
        continue;
      }
      return at;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) return at;
    at += 6;
  }
  return std::string_view::npos;
}

}  // namespace

Result<rapidjson::Document> parse_json(std::string_view text) {
  rapidjson::Document document;
  document.Parse<kJsonParseFlags>(text.data(), text.size());
  if (document.HasParseError()) {
    return fail("invalid_json", std::string("invalid JSON at offset ") +
                                    std::to_string(document.GetErrorOffset()) + ": " +
                                    rapidjson::GetParseError_En(document.GetParseError()));
  }
  return document;
}

void append_json(const rapidjson::Value& value, std::string& out) {
  StringSink sink(out);
  JsJsonWriter writer(sink, out);
  value.Accept(writer);
}

bool lone_surrogate_escapes_to_cesu8(std::string& text) {
  std::size_t at = find_lone_surrogate_escape(text, 0);
  if (at == std::string::npos) return false;
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  while (at != std::string::npos) {
    out.append(text, copied, at - copied);
    const auto unit = static_cast<unsigned long>(u_escape_at(text, at));
    out.push_back(static_cast<char>(0xED));
    out.push_back(static_cast<char>(0x80 | ((unit >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
    copied = at + 6;
    at = find_lone_surrogate_escape(text, copied);
  }
  out.append(text, copied, std::string::npos);
  text = std::move(out);
  return true;
}

void append_ascii_json(const rapidjson::Value& value, std::string& out) {
  std::string text;
  append_json(value, text);
  out.reserve(out.size() + text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x7F) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c == 0x7F) {
      append_u_escape(c, out);
      ++i;
      continue;
    }
    // append_json wrote valid UTF-8 (lone surrogates escaped, invalid bytes as U+FFFD), and
    // outside strings there are no such bytes: each sequence is one character.
    const Decoded decoded = decode_sequence(text, i);
    if (decoded.code_point == kInvalidSequence) {
      append_u_escape(0xFFFD, out);
    } else if (decoded.code_point >= 0x10000) {
      append_u_escape(0xD800 + ((decoded.code_point - 0x10000) >> 10), out);
      append_u_escape(0xDC00 + ((decoded.code_point - 0x10000) & 0x3FF), out);
    } else {
      append_u_escape(decoded.code_point, out);
    }
    i += decoded.length;
  }
}

std::string to_json(const rapidjson::Value& value) {
  std::string out;
  append_json(value, out);
  return out;
}

const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> string_member(const rapidjson::Value& object,
                                              std::string_view name) {
  const rapidjson::Value* member = find_member(object, name);
  if (member == nullptr || !member->IsString()) return std::nullopt;
  return std::string_view(member->GetString(), member->GetStringLength());
}

}  // namespace backfilld::common
