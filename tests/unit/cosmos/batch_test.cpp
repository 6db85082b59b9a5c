#include "daemon/cosmos/batch.hpp"

#include <doctest/doctest.h>

#include "daemon/common/json.hpp"

namespace backfilld::cosmos {

TEST_CASE("a batch body carries each operation's id, key, ifMatch and body as sent") {
  const WriteOperation first{WriteOperation::Kind::kReplace, "n\"1", PartitionKey{R"(["ws-1"])"},
                             R"({"id":"n\"1","body":{"__encrypted":true}})", "etag-1"};
  const WriteOperation second{WriteOperation::Kind::kUpsert, "n2", PartitionKey{R"(["ws-2"])"},
                              R"({"id":"n2"})", ""};
  const BatchRequest request{.container = {"db", "notes"},
                             .kind = BatchKind::kBulk,
                             .key = {},
                             .partition_key_range_id = "0",
                             .operations = {&first, &second}};
  const std::string body = batch_body(request);
  auto parsed = common::parse_json(body);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->IsArray());
  REQUIRE(parsed->Size() == 2);
  const auto& op = (*parsed)[0];
  CHECK(op["operationType"] == "Replace");
  CHECK(op["id"] == "n\"1");
  CHECK(op["partitionKey"] == R"(["ws-1"])");
  CHECK(op["ifMatch"] == "etag-1");
  CHECK(op["resourceBody"]["body"]["__encrypted"].GetBool());
  CHECK((*parsed)[1]["operationType"] == "Upsert");
  CHECK_FALSE((*parsed)[1].HasMember("ifMatch"));  // unconditional
}

TEST_CASE("a batch response gives one result per operation, or an error") {
  auto response = parse_batch_response(
      R"([{"statusCode":200,"requestCharge":10.3,"eTag":"e1","resourceBody":{"id":"a"}},)"
      R"({"statusCode":412,"requestCharge":1},{"statusCode":429,"retryAfterMilliseconds":40}])",
      3, 12.3);
  REQUIRE(response.ok());
  REQUIRE(response->results.size() == 3);
  CHECK(response->results[0].status == 200);
  CHECK(response->results[0].etag == "e1");
  CHECK(response->results[1].status == 412);
  CHECK(response->results[2].retry_after == std::chrono::milliseconds(40));
  CHECK(response->request_charge == 12.3);
  CHECK_FALSE(parse_batch_response("[]", 3, 0).ok());  // a result missing
  CHECK_FALSE(parse_batch_response(R"({"code":"BadRequest"})", 1, 0).ok());
}

}  // namespace backfilld::cosmos
