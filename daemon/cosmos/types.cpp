#include "daemon/cosmos/types.hpp"

#include <cstdint>
#include <cstdio>
#include <utility>

#include "daemon/common/json.hpp"

namespace backfilld::cosmos {
namespace {

void append_unit_escape(std::uint32_t unit, std::string& out) {
  char escaped[8];
  std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(unit));
  out += escaped;
}

}  // namespace

PartitionKey PartitionKey::of(const rapidjson::Value& value) {
  // Header values must be printable ASCII: the JSON.stringify text (valid UTF-8, lone
  // surrogates already escaped) with DEL and every non-ASCII character as \uXXXX UTF-16 units,
  // exactly as the SDKs and deploy/local/admin.mjs send it.
  std::string json;
  common::append_json(value, json);
  std::string header = "[";
  header.reserve(json.size() + 8);
  for (std::size_t i = 0; i < json.size();) {
    const auto lead = static_cast<unsigned char>(json[i]);
    if (lead < 0x7F) {
      header.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    std::uint32_t code_point = lead;
    std::size_t length = 1;
    if (lead >= 0xF0) {
      code_point = lead & 0x07U;
      length = 4;
    } else if (lead >= 0xE0) {
      code_point = lead & 0x0FU;
      length = 3;
    } else if (lead >= 0xC0) {
      code_point = lead & 0x1FU;
      length = 2;
    }
    for (std::size_t k = 1; k < length && i + k < json.size(); ++k) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(json[i + k]) & 0x3FU);
    }
    i += length;
    if (code_point >= 0x10000) {
      code_point -= 0x10000;
      append_unit_escape(0xD800 + (code_point >> 10), header);
      append_unit_escape(0xDC00 + (code_point & 0x3FF), header);
    } else {
      append_unit_escape(code_point, header);
    }
  }
  header.push_back(']');
  return PartitionKey{std::move(header)};
}

}  // namespace backfilld::cosmos
