#include "daemon/cosmos/types.hpp"

#include <utility>

#include "daemon/common/json.hpp"

namespace backfilld::cosmos {

PartitionKey PartitionKey::of(const rapidjson::Value& value) {
  // Header values must be printable ASCII: other characters travel as \uXXXX escapes, as the
  // SDKs do; a lone surrogate (half an emoji) as its own escape, as JSON.stringify writes it.
  std::string header = "[";
  common::append_ascii_json(value, header);
  header.push_back(']');
  return PartitionKey{std::move(header)};
}

}  // namespace backfilld::cosmos
