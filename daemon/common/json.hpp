#pragma once
/// RapidJSON helpers shared by every layer: parsing with full number precision, writing
/// (json_writer.hpp) and typed member lookup.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/json_writer.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::common {

/// Flags every parse uses: doubles round-trip exactly, so rewritten documents keep their numbers.
inline constexpr unsigned kJsonParseFlags = rapidjson::kParseFullPrecisionFlag;

/// Parses `text`, accepting all that JSON.stringify writes: a lone surrogate escape, high or
/// low, is stored as its CESU-8 bytes (append_json writes it back as the escape). The error
/// names the offset in `text` and RapidJSON's reason.
Result<rapidjson::Document> parse_json(std::string_view text);

/// The member `name` of `object` when present (and `object` is an object), else nullptr.
const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name);

/// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object,
                                              std::string_view name);

}  // namespace backfilld::common
