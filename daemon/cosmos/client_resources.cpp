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

namespace {

/// The `_rid` of a resource's body.
Result<std::string> rid_of(const std::string& body, int status, std::string_view what) {
  auto json = common::parse_json(body);
  const auto rid = json.ok() ? common::string_member(*json, "_rid") : std::nullopt;
  if (!rid || rid->empty()) {
    return common::Unexpected{Error{status, 0, std::string(what) + " has no _rid", {}, 0}};
  }
  return std::string(*rid);
}

/// The throughput of the first offer of an offers query's answer, or nullopt when none.
Result<std::optional<Throughput>> throughput_of(const std::string& body, int status) {
  auto json = common::parse_json(body);
  const rapidjson::Value* offers = json.ok() ? common::find_member(*json, "Offers") : nullptr;
  if (offers == nullptr || !offers->IsArray()) {
    return common::Unexpected{Error{status, 0, "offers response has no Offers array", {}, 0}};
  }
  if (offers->Empty()) return std::optional<Throughput>();
  const rapidjson::Value* content = common::find_member((*offers)[0], "content");
  const rapidjson::Value* autoscale =
      content ? common::find_member(*content, "offerAutopilotSettings") : nullptr;
  const rapidjson::Value* maximum =
      autoscale ? common::find_member(*autoscale, "maxThroughput") : nullptr;
  if (maximum != nullptr && maximum->IsNumber()) {
    return std::optional<Throughput>(Throughput{maximum->GetDouble(), true});
  }
  const rapidjson::Value* manual =
      content ? common::find_member(*content, "offerThroughput") : nullptr;
  if (manual == nullptr || !manual->IsNumber()) {
    return common::Unexpected{
        Error{status, 0, "offer has neither offerThroughput nor an autoscale maximum", {}, 0}};
  }
  return std::optional<Throughput>(Throughput{manual->GetDouble(), false});
}

}  // namespace

net::awaitable<Result<std::optional<Throughput>>> Client::read_offer(std::string link,
                                                                     std::string_view type) {
  Call read{.operation = "read_resource",
            .verb = http::verb::get,
            .resource_type = type,
            .resource_link = link,
            .path_link = link};
  auto resource = co_await execute(std::move(read));
  if (!resource) co_return common::Unexpected{std::move(resource.error())};
  auto rid = rid_of(resource->body, resource->status, link);
  if (!rid) co_return common::Unexpected{std::move(rid.error())};
  std::string body = R"({"query":"SELECT * FROM root WHERE root.offerResourceId = @rid",)"
                     R"("parameters":[{"name":"@rid","value":)";
  common::append_json(rapidjson::Value(rapidjson::StringRef(rid->data(), rid->size())), body);
  body += "}]}";
  Call query{
      .operation = "offers",
      .verb = http::verb::post,
      .resource_type = "offers",
      .resource_link = "",
      .path_link = "offers",
      .headers = {{"Content-Type", "application/query+json"}, {"x-ms-documentdb-isquery", "True"}},
      .body = std::move(body)};
  auto offers = co_await execute(std::move(query));
  if (!offers) co_return common::Unexpected{std::move(offers.error())};
  co_return throughput_of(offers->body, offers->status);
}

net::awaitable<Result<Throughput>> Client::read_throughput(const ContainerRef& container) {
  // A container's own offer; a container without one shares its database's.
  auto own = co_await read_offer(container.link(), "colls");
  if (!own) co_return common::Unexpected{std::move(own.error())};
  if (*own) co_return **own;
  auto shared = co_await read_offer("dbs/" + container.database, "dbs");
  if (!shared) co_return common::Unexpected{std::move(shared.error())};
  if (*shared) co_return **shared;
  co_return common::Unexpected{
      Error{404, 0, "no offer for " + container.link() + " or its database (serverless?)", {}, 0}};
}

}  // namespace backfilld::cosmos
