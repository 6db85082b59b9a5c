#include "daemon/cosmos/types.hpp"

#include <doctest/doctest.h>

#include "daemon/common/json.hpp"

namespace backfilld::cosmos {
namespace {

/// The partition key header of the value JSON text `json` holds, read as the client reads it.
std::string header_of(std::string json) {
  auto parsed = common::parse_json(json);
  REQUIRE(parsed.ok());
  return PartitionKey::of(*parsed).header;
}

}  // namespace

TEST_CASE("PartitionKey::of writes printable ASCII, as admin.mjs partitionKeyHeader does") {
  CHECK(header_of(R"("ws-0001")") == R"(["ws-0001"])");
  CHECK(header_of("42") == "[42]");
  CHECK(header_of("null") == "[null]");
  // admin.mjs selftest's vector: JSON.stringify, then every char from U+007F up as \uXXXX.
  CHECK(header_of(R"("é☃\u0001\t😀")") == R"(["\u00e9\u2603\u0001\t\ud83d\ude00"])");
  CHECK(header_of(R"("del \u007f q\"b\\")") == R"(["del \u007f q\"b\\"])");
}

TEST_CASE("PartitionKey::of keeps a lone surrogate as its escape") {
  CHECK(header_of(R"("u-\udc00")") == R"(["u-\udc00"])");
  CHECK(header_of(R"("cut \ud83d")") == R"(["cut \ud83d"])");
  CHECK(header_of(R"("\udc00\ud800x")") == R"(["\udc00\ud800x"])");
}

}  // namespace backfilld::cosmos
