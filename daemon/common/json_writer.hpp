#pragma once
/// The one JSON writer of backfilld: compact text byte-equal to what JavaScript's JSON.stringify
/// writes for the same value (NoteLett writes its documents with it), except for the spelling of
/// some numbers. Documents written back to Cosmos, the envelope's plaintext and its AAD all come
/// from here, so a member the migration does not touch keeps its bytes. Rules: docs/JSON.md.
#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace backfilld::common {

/// Appends `text` as a JSON string, quotes included, as JSON.stringify writes the JavaScript
/// string it stands for: `"` `\` and \b \f \n \r \t escaped, other U+0000..U+001F as \u00xx
/// (lowercase), everything else raw UTF-8. CESU-8 surrogates (how RapidJSON stores "\udc00")
/// are UTF-16 code units: a pair is written as its 4-byte character, a lone one as \udxxx.
/// Other invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart, as Node decodes it.
void append_json_string(std::string_view text, std::string& out);

/// Appends the compact JSON text of `value` to `out`: strings by append_json_string, members in
/// their order, numbers as RapidJSON writes them (exact round trip; integers stay integers),
/// NaN and infinities as null (JSON.stringify; a parsed document holds none).
void append_json(const rapidjson::Value& value, std::string& out);

/// Compact JSON text of `value` (append_json into a string reserved for it).
std::string to_json(const rapidjson::Value& value);

}  // namespace backfilld::common
