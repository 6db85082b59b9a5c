#pragma once
/// RapidJSON helpers shared by every layer: parsing with full number precision, writing,
/// and typed member lookup.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/result.hpp"

namespace backfilld::common {

/// Flags every parse uses: doubles round-trip exactly, so rewritten documents keep their numbers.
inline constexpr unsigned kJsonParseFlags = rapidjson::kParseFullPrecisionFlag;

/// Parses `text`; the error names the offset and RapidJSON's reason.
Result<rapidjson::Document> parse_json(std::string_view text);

/// Compact JSON text of `value`.
std::string to_json(const rapidjson::Value& value);

/// Appends the compact JSON text of `value` to `out` (no intermediate copy).
void append_json(const rapidjson::Value& value, std::string& out);

/// The member `name` of `object` when present (and `object` is an object), else nullptr.
const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name);

/// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object,
                                              std::string_view name);

}  // namespace backfilld::common
