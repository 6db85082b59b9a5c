#include "daemon/common/json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace backfilld::common {
namespace {

/// The UTF-16 code unit of the 4 hex digits at `text[at]`, if they are 4 hex digits.
std::optional<char32_t> hex4_at(std::string_view text, std::size_t at) {
  if (at + 4 > text.size()) return std::nullopt;
  char32_t unit = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const char c = text[i];
    const int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (digit < 0) return std::nullopt;
    unit = (unit << 4) | static_cast<char32_t>(digit);
  }
  return unit;
}

bool is_escape_of(std::string_view text, std::size_t at, char32_t first, char32_t last) {
  if (text.substr(at, 2) != "\\u") return false;
  const auto unit = hex4_at(text, at + 2);
  return unit && *unit >= first && *unit <= last;
}

/// JSON text in which each lone high surrogate escape is replaced by its CESU-8 bytes.
class LoneHighSurrogatesAsBytes {
 public:
  explicit LoneHighSurrogatesAsBytes(std::string_view text) {
    text_.reserve(text.size());
    std::size_t copied = 0;
    std::size_t at = text.find('\\');
    while (at != std::string_view::npos && at + 1 < text.size()) {
      if (!is_escape_of(text, at, 0xD800, 0xDBFF)) {
        at = text.find('\\', at + 2);  // skips the escaped character, which may be a backslash
        continue;
      }
      if (is_escape_of(text, at + 6, 0xDC00, 0xDFFF)) {
        at = text.find('\\', at + 12);  // a pair RapidJSON reads itself
        continue;
      }
      const char32_t unit = *hex4_at(text, at + 2);
      text_.append(text, copied, at - copied);
      text_.push_back(static_cast<char>(0xE0 | (unit >> 12)));
      text_.push_back(static_cast<char>(0x80 | ((unit >> 6) & 0x3F)));
      text_.push_back(static_cast<char>(0x80 | (unit & 0x3F)));
      replaced_before_.push_back(text_.size());
      copied = at + 6;
      at = text.find('\\', copied);
    }
    text_.append(text, copied);
  }

  std::string_view text() const { return text_; }

  /// The offset in the original text of `offset` in text().
  std::size_t original_offset(std::size_t offset) const {
    const auto replaced =
        std::upper_bound(replaced_before_.begin(), replaced_before_.end(), offset) -
        replaced_before_.begin();
    return offset + 3 * static_cast<std::size_t>(replaced);  // each 6-byte escape became 3 bytes
  }

 private:
  std::string text_;
  std::vector<std::size_t> replaced_before_;  ///< offsets in text_ just after each replacement
};

/// Forwards a reader's events to a document, refusing nesting deeper than a limit and
/// converting every number from its text with std::from_chars (correctly rounded, no undefined
/// behaviour) the way RapidJSON classifies numbers: integers as int64 or uint64 while they fit,
/// everything else as a double. refusal() says why it stopped the reader, if it did.
class ExactNumbers {
 public:
  ExactNumbers(rapidjson::Document& document, std::size_t max_depth)
      : document_(document), max_depth_(max_depth) {}

  bool Null() { return document_.Null(); }
  bool Bool(bool b) { return document_.Bool(b); }
  bool Int(int i) { return document_.Int(i); }
  bool Uint(unsigned u) { return document_.Uint(u); }
  bool Int64(std::int64_t i) { return document_.Int64(i); }
  bool Uint64(std::uint64_t u) { return document_.Uint64(u); }
  bool Double(double d) { return document_.Double(d); }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    return document_.String(text, length, copy);
  }
  bool StartObject() { return enter() && document_.StartObject(); }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    return document_.Key(text, length, copy);
  }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return document_.EndObject(members);
  }
  bool StartArray() { return enter() && document_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return document_.EndArray(elements);
  }

  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    const char* end = text + length;
    const bool integer =
        std::find_if(text, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end;
    if (integer && *text == '-') {
      std::int64_t value = 0;
      if (std::from_chars(text, end, value).ec == std::errc()) return document_.Int64(value);
    } else if (integer) {
      std::uint64_t value = 0;
      if (std::from_chars(text, end, value).ec == std::errc()) return document_.Uint64(value);
    }
    double value = 0;
    const auto [stop, error] = std::from_chars(text, end, value);
    if (error == std::errc::result_out_of_range) {
      // Too small underflows to (signed) zero, as in JavaScript; too large is refused, as
      // RapidJSON refuses it (JavaScript would read Infinity, which JSON cannot write back).
      const double magnitude = std::strtod(std::string(text, length).c_str(), nullptr);
      if (std::isinf(magnitude)) return refuse("number too large for a double");
      value = *text == '-' ? -0.0 : 0.0;
    } else if (error != std::errc() || stop != end) {
      return refuse("number cannot be read");
    }
    return document_.Double(value);
  }

  const std::string& refusal() const { return refusal_; }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    return refuse("arrays and objects nested deeper than " + std::to_string(max_depth_) +
                  " levels");
  }
  bool refuse(std::string why) {
    refusal_ = std::move(why);
    return false;
  }

  rapidjson::Document& document_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  std::string refusal_;
};

template <unsigned kFlags, class Stream>
std::optional<ParseFailure> parse_with_limits(rapidjson::Document& document,
                                              Stream& stream,
                                              std::size_t max_depth) {
  rapidjson::ParseResult result;
  std::string refusal;
  auto generate = [&](rapidjson::Document& target) {
    ExactNumbers handler(target, max_depth);
    rapidjson::Reader reader;
    // Iterative: RapidJSON's recursive parser overflows the stack on deep input before any
    // handler can count the depth.
    result =
        reader
            .Parse<kFlags | rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
                stream, handler);
    refusal = handler.refusal();
    return !result.IsError();
  };
  document.Populate(generate);
  if (!result.IsError()) return std::nullopt;
  if (refusal.empty()) refusal = rapidjson::GetParseError_En(result.Code());
  return ParseFailure{result.Offset(), result.Code(), std::move(refusal)};
}

}  // namespace

std::optional<ParseFailure> parse_exact(rapidjson::Document& document,
                                        std::string_view text,
                                        std::size_t max_depth) {
  rapidjson::MemoryStream bytes(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(bytes);
  return parse_with_limits<rapidjson::kParseDefaultFlags>(document, stream, max_depth);
}

std::optional<ParseFailure> parse_exact_in_place(rapidjson::Document& document,
                                                 char* text,
                                                 std::size_t max_depth) {
  rapidjson::InsituStringStream stream(text);
  return parse_with_limits<rapidjson::kParseInsituFlag>(document, stream, max_depth);
}

Result<rapidjson::Document> parse_json(std::string_view text, std::size_t max_depth) {
  rapidjson::Document document;
  std::optional<ParseFailure> failure = parse_exact(document, text, max_depth);
  if (failure && failure->code == rapidjson::kParseErrorStringUnicodeSurrogateInvalid) {
    // RapidJSON (no flag changes this) refuses a high surrogate escape without its low half, which
    // a JavaScript string may hold and JSON.stringify writes. As bytes it stores them as CESU-8,
    // as it stores a lone "\udc00", and append_json writes both back as the escapes they were.
    const LoneHighSurrogatesAsBytes rewritten(text);
    document = rapidjson::Document();
    failure = parse_exact(document, rewritten.text(), max_depth);
    if (failure) failure->offset = rewritten.original_offset(failure->offset);
  }
  if (failure) {
    return fail("invalid_json", "invalid JSON at offset " + std::to_string(failure->offset) + ": " +
                                    failure->reason);
  }
  return document;
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
