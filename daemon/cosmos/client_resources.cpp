// Client, part two: databases, containers and their partition key ranges.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/client.hpp"
#include "daemon/cosmos/client_call.hpp"

namespace backfilld::cosmos {
namespace {

std::string resource_body(std::string_view id, std::string_view partition_key_path = {}) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("id");
  writer.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  if (!partition_key_path.empty()) {
    writer.Key("partitionKey");
    writer.StartObject();
    writer.Key("paths");
    writer.StartArray();
    writer.String(partition_key_path.data(),
                  static_cast<rapidjson::SizeType>(partition_key_path.size()));
    writer.EndArray();
    writer.Key("kind");
    writer.String("Hash");
    writer.EndObject();
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

net::awaitable<Result<std::vector<PartitionKeyRange>>> Client::read_partition_key_ranges(
    const ContainerRef& container) {
  Call call{.operation = "pkranges",
            .verb = http::verb::get,
            .resource_type = "pkranges",
            .resource_link = container.link(),
            .path_link = container.link() + "/pkranges"};
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  auto body = common::parse_json(reply->body);
  const rapidjson::Value* ranges =
      body.ok() ? common::find_member(*body, "PartitionKeyRanges") : nullptr;
  if (ranges == nullptr || !ranges->IsArray()) {
    co_return common::Unexpected{
        Error{reply->status, 0, "pkranges response has no PartitionKeyRanges array", {}, 0}};
  }
  // The local server sends the id as a number; the service as a string.
  auto text_of = [](const rapidjson::Value* value) -> std::string {
    if (value == nullptr) return {};
    if (value->IsString()) return std::string(value->GetString(), value->GetStringLength());
    return common::to_json(*value);
  };
  std::vector<PartitionKeyRange> result;
  for (const auto& range : ranges->GetArray()) {
    PartitionKeyRange item{text_of(common::find_member(range, "id")),
                           text_of(common::find_member(range, "minInclusive")),
                           text_of(common::find_member(range, "maxExclusive")),
                           {}};
    if (const auto* parents = common::find_member(range, "parents");
        parents && parents->IsArray()) {
      for (const auto& parent : parents->GetArray()) item.parents.push_back(text_of(&parent));
    }
    result.push_back(std::move(item));
  }
  co_return result;
}

net::awaitable<Result<bool>> Client::create_database(std::string_view id) {
  Call call{.operation = "create_database",
            .verb = http::verb::post,
            .resource_type = "dbs",
            .resource_link = "",
            .path_link = "dbs",
            .body = resource_body(id)};
  auto reply = co_await execute(std::move(call));
  if (!reply) {
    if (reply.error().is_conflict()) co_return false;
    co_return common::Unexpected{std::move(reply.error())};
  }
  co_return true;
}

net::awaitable<Result<bool>> Client::create_container(std::string_view database,
                                                      std::string_view id,
                                                      std::string_view partition_key_path) {
  const std::string database_link = "dbs/" + std::string(database);
  Call call{.operation = "create_container",
            .verb = http::verb::post,
            .resource_type = "colls",
            .resource_link = database_link,
            .path_link = database_link + "/colls",
            .body = resource_body(id, partition_key_path)};
  auto reply = co_await execute(std::move(call));
  if (!reply) {
    if (reply.error().is_conflict()) co_return false;
    co_return common::Unexpected{std::move(reply.error())};
  }
  co_return true;
}

net::awaitable<Result<PartitionKeyDefinition>> Client::read_partition_key_definition(
    const ContainerRef& container) {
  Call call{.operation = "read_container",
            .verb = http::verb::get,
            .resource_type = "colls",
            .resource_link = container.link(),
            .path_link = container.link()};
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  auto body = common::parse_json(reply->body);
  const rapidjson::Value* key = body.ok() ? common::find_member(*body, "partitionKey") : nullptr;
  if (key == nullptr) {
    co_return common::Unexpected{
        Error{reply->status, 0, "container definition has no partitionKey", {}, 0}};
  }
  auto definition = PartitionKeyDefinition::from_json(*key);
  if (!definition) {
    co_return common::Unexpected{
        Error{reply->status, 0, "container partitionKey: " + definition.error().message, {}, 0}};
  }
  co_return *definition;
}

}  // namespace backfilld::cosmos
