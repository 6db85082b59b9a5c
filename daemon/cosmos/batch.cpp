#include "daemon/cosmos/batch.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

#include "daemon/common/json.hpp"

namespace backfilld::cosmos {
namespace {

/// `text` as a JSON string. Written apart first: the JSON writer grows its output by doubling,
/// which would zero-fill and cut back the whole batch body for every short member.
void append_string(std::string_view text, std::string& out) {
  std::string quoted;
  common::append_json(rapidjson::Value(rapidjson::StringRef(
                          text.data(), static_cast<rapidjson::SizeType>(text.size()))),
                      quoted);
  out += quoted;
}

}  // namespace

std::string batch_body(const BatchRequest& request) {
  std::size_t size = 2;
  for (const WriteOperation* operation : request.operations) size += operation->body.size() + 160;
  std::string body;
  body.reserve(size);
  body += '[';
  for (const WriteOperation* operation : request.operations) {
    if (body.size() > 1) body += ',';
    body += operation->kind == WriteOperation::Kind::kReplace
                ? R"({"operationType":"Replace","id":)"
                : R"({"operationType":"Upsert","id":)";
    append_string(operation->id, body);
    // The local server routes each operation by this member; the service takes it as well.
    body += R"(,"partitionKey":)";
    append_string(operation->key.header, body);
    if (!operation->if_match.empty()) {
      body += R"(,"ifMatch":)";
      append_string(operation->if_match, body);
    }
    body += R"(,"resourceBody":)";
    body += operation->body;
    body += '}';
  }
  body += ']';
  return body;
}

Result<BatchResponse> parse_batch_response(const std::string& text,
                                           std::size_t operations,
                                           double request_charge) {
  auto body = common::parse_json(text);
  if (!body || !body->IsArray() || body->Size() != operations) {
    return common::Unexpected{Error{
        0, 0, "batch response is not an array with one result per operation", {}, request_charge}};
  }
  BatchResponse response;
  response.request_charge = request_charge;
  response.results.reserve(operations);
  for (const rapidjson::Value& item : body->GetArray()) {
    OperationResult result;
    auto number = [&](std::string_view name) {
      const rapidjson::Value* value = item.IsObject() ? common::find_member(item, name) : nullptr;
      return value != nullptr && value->IsNumber() ? value->GetDouble() : 0.0;
    };
    result.status = static_cast<int>(number("statusCode"));
    result.substatus = static_cast<int>(number("subStatusCode"));
    result.request_charge = number("requestCharge");
    result.retry_after =
        std::chrono::milliseconds(static_cast<std::int64_t>(number("retryAfterMilliseconds")));
    if (item.IsObject())
      result.etag = std::string(common::string_member(item, "eTag").value_or(""));
    response.results.push_back(std::move(result));
  }
  return response;
}

}  // namespace backfilld::cosmos
