#pragma once
/// RapidJSON helpers shared by every layer: parsing with full number precision, writing
/// (json_writer.hpp) and typed member lookup.
#include <rapidjson/document.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/json_writer.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::common {

/// The deepest nesting of arrays and objects any parse accepts. Cosmos DB refuses documents
/// nested deeper than 128 levels, so 256 holds every document it stores plus what wraps one (a
/// query or batch response, a manifest value, a state file), and it bounds the recursion of
/// everything that walks a parsed tree (append_json, CopyFrom, operator==, the transforms) far
/// below the stack's size; the parse itself is iterative.
inline constexpr std::size_t kMaxJsonDepth = 256;

/// Why a parse failed: where in the text, RapidJSON's code, and the reason in words.
struct ParseFailure {
  std::size_t offset = 0;
  rapidjson::ParseErrorCode code = rapidjson::kParseErrorNone;
  std::string reason;
};

/// Parses `text` into `document` as RapidJSON does, iteratively (no recursion, whatever the
/// input), refusing nesting deeper than `max_depth`, and reading numbers exactly: each is
/// converted from its text by std::from_chars (correctly rounded, so doubles round-trip).
/// RapidJSON 1.1's own full-precision conversion computes garbage, through undefined behaviour,
/// for some numbers ("0e40", 20-digit significands; found by tests/fuzz/manifest_fuzz). Integers
/// that fit are int64 or uint64, the rest doubles; a number too large for a double is an error.
/// Returns nullopt on success.
std::optional<ParseFailure> parse_exact(rapidjson::Document& document,
                                        std::string_view text,
                                        std::size_t max_depth = kMaxJsonDepth);

/// parse_exact in place: the document's strings point into `text` (NUL-terminated, overwritten
/// with their decoded bytes) instead of copies, so a secret read from a file lives only in the
/// buffer its reader scrubs.
std::optional<ParseFailure> parse_exact_in_place(rapidjson::Document& document,
                                                 char* text,
                                                 std::size_t max_depth = kMaxJsonDepth);

/// Parses `text` (parse_exact's limits), accepting all that JSON.stringify writes: a lone
/// surrogate escape, high or low, is stored as its CESU-8 bytes (append_json writes it back as
/// the escape). The error (code "invalid_json") names the offset in `text` and the reason.
Result<rapidjson::Document> parse_json(std::string_view text,
                                       std::size_t max_depth = kMaxJsonDepth);

/// The member `name` of `object` when present (and `object` is an object), else nullptr.
const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name);

/// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object,
                                              std::string_view name);

}  // namespace backfilld::common
