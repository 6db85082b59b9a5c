#include "daemon/common/json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <optional>
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

}  // namespace

Result<rapidjson::Document> parse_json(std::string_view text) {
  rapidjson::Document document;
  document.Parse<kJsonParseFlags>(text.data(), text.size());
  std::size_t error_offset = document.GetErrorOffset();
  if (document.GetParseError() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid) {
    // RapidJSON (no flag changes this) refuses a high surrogate escape without its low half, which
    // a JavaScript string may hold and JSON.stringify writes. As bytes it stores them as CESU-8,
    // as it stores a lone "\udc00", and append_json writes both back as the escapes they were.
    const LoneHighSurrogatesAsBytes rewritten(text);
    document = rapidjson::Document();
    document.Parse<kJsonParseFlags>(rewritten.text().data(), rewritten.text().size());
    error_offset = rewritten.original_offset(document.GetErrorOffset());
  }
  if (document.HasParseError()) {
    return fail("invalid_json", std::string("invalid JSON at offset ") +
                                    std::to_string(error_offset) + ": " +
                                    rapidjson::GetParseError_En(document.GetParseError()));
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
