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

/// Compact JSON text of `value`, strings written as JavaScript's JSON.stringify writes them
/// (append_js_string): a document read, changed and written back keeps every string it holds.
std::string to_json(const rapidjson::Value& value);

/// Appends the compact JSON text of `value` to `out` (no intermediate copy).
void append_json(const rapidjson::Value& value, std::string& out);

/// Appends the JSON text of `value` in printable ASCII only: as append_json writes it, then every
/// other character (DEL and all non-ASCII) as \uXXXX escapes of its UTF-16 code units, which is
/// what HTTP header values can carry (Cosmos DB's partition key header).
void append_ascii_json(const rapidjson::Value& value, std::string& out);

/// Appends `text` as a JSON string, quotes included, byte-equal to JSON.stringify of the
/// JavaScript string it stands for. `text` is read as UTF-8 in which CESU-8 surrogates
/// (ED A0..BF 80..BF, how RapidJSON stores a parsed "\udc00") stand for UTF-16 code units: a lone
/// one is written \udxxx, a high one followed by a low one is the character of the pair. Bytes
/// that are not UTF-8 at all become U+FFFD, exactly as Node decodes them.
void append_js_string(std::string_view text, std::string& out);

/// JSON text written by JavaScript (Cosmos DB, the NoteLett app) can hold a lone UTF-16
/// surrogate as an escape ("\ud83d": half an emoji cut by a substring). RapidJSON refuses a lone
/// high one and would store a lone low one as CESU-8 bytes. This rewrites, in place, every lone
/// surrogate escape of `text` into those CESU-8 bytes, which RapidJSON then parses into the string
/// as they are, and append_json writes back as the same escape: the string survives a read and a
/// write unchanged. Escaped pairs and everything else are left alone. Returns whether anything
/// changed. Call it on a JSON text before parsing it with RapidJSON.
bool lone_surrogate_escapes_to_cesu8(std::string& text);

/// The member `name` of `object` when present (and `object` is an object), else nullptr.
const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name);

/// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object,
                                              std::string_view name);

}  // namespace backfilld::common
