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

/// Parses `text` into `document` as RapidJSON does, except numbers: each is converted from its
/// text by std::from_chars (correctly rounded, so doubles round-trip exactly). RapidJSON 1.1's
/// own full-precision conversion computes garbage, through undefined behaviour, for some numbers
/// ("0e40", 20-digit significands; found by tests/fuzz/manifest_fuzz). Integers that fit are
/// int64 or uint64, the rest doubles; a number too large for a double is an error.
rapidjson::ParseResult parse_exact(rapidjson::Document& document, std::string_view text);

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
