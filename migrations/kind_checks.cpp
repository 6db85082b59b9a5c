#include "migrations/kind_checks.hpp"

#include "daemon/common/json.hpp"
#include "daemon/common/json_writer.hpp"

namespace backfilld::migrations {

std::string field_ref(std::string_view name) {
  std::string out = "c[";
  common::append_json_string(name, out);
  return out + "]";
}

QueryFilter::QueryFilter(const Manifest& manifest, std::string conditions) {
  if (manifest.product_id) {
    where = "c.productId = @productId";
    add("@productId", rapidjson::Value(manifest.product_id->c_str(), parameters.GetAllocator()));
  }
  if (!conditions.empty()) where += (where.empty() ? "" : " AND ") + conditions;
}

void QueryFilter::add(std::string_view name, rapidjson::Value value) {
  auto& allocator = parameters.GetAllocator();
  rapidjson::Value parameter(rapidjson::kObjectType);
  parameter.AddMember(
      "name",
      rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator),
      allocator);
  parameter.AddMember("value", value, allocator);
  parameters.PushBack(parameter, allocator);
}

std::string QueryFilter::parameters_json() const { return common::to_json(parameters); }

namespace {

/// One count, range by range; a range that splits meanwhile fails it with 410 (range gone).
net::awaitable<cosmos::Result<std::uint64_t>> count_by_range(cosmos::DocumentStore& store,
                                                             const cosmos::ContainerRef& container,
                                                             const std::string& where,
                                                             const std::string& parameters_json) {
  auto ranges = co_await store.read_partition_key_ranges(container);
  if (!ranges) co_return common::Unexpected{std::move(ranges.error())};
  std::uint64_t total = 0;
  for (const cosmos::PartitionKeyRange& range : *ranges) {
    cosmos::QueryRequest request{
        .container = container,
        .query = "SELECT VALUE COUNT(1) FROM c" + (where.empty() ? "" : " WHERE " + where),
        .parameters_json = parameters_json,
        .max_item_count = 100,
        .partition_key_range_id = range.id};
    do {
      auto page = co_await store.query_documents(request);
      if (!page) co_return common::Unexpected{std::move(page.error())};
      for (const auto& value : page->documents().GetArray()) {
        if (value.IsUint64()) total += value.GetUint64();
      }
      request.continuation = page->continuation;
    } while (!request.continuation.empty());
  }
  co_return total;
}

/// Splits in a row that a count starts over for, before it gives up.
constexpr int kMaxCountRestarts = 10;

}  // namespace

net::awaitable<cosmos::Result<std::uint64_t>> count_documents(cosmos::DocumentStore& store,
                                                              const cosmos::ContainerRef& container,
                                                              const std::string& where,
                                                              const std::string& parameters_json) {
  // A split during the count: the ranges are read again and the count starts over, so no range
  // is counted twice nor missed.
  for (int restarts = 0;; ++restarts) {
    auto total = co_await count_by_range(store, container, where, parameters_json);
    if (total || !total.error().is_range_gone() || restarts == kMaxCountRestarts) co_return total;
  }
}

net::awaitable<cosmos::Result<std::uint64_t>> count_documents(cosmos::DocumentStore& store,
                                                              const cosmos::ContainerRef& container,
                                                              const QueryFilter& filter) {
  co_return co_await count_documents(store, container, filter.where, filter.parameters_json());
}

}  // namespace backfilld::migrations
