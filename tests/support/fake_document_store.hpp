#pragma once
/// An in-memory DocumentStore for engine unit tests: pages by offset, etags that change on every
/// write, and hooks to play a concurrent application or a failing service.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "tests/support/fake_ranges.hpp"

namespace backfilld::testing {

class FakeDocumentStore final : public cosmos::DocumentStore {
 public:
  struct Stored {
    std::string json;  ///< without _etag
    std::string etag;
  };

  /// Adds a document (JSON object text with an "id").
  void put(const std::string& json) {
    auto parsed = common::parse_json(json);
    const std::string id(common::string_member(*parsed, "id").value());
    if (!documents_.contains(id)) order_.push_back(id);
    documents_[id] = Stored{json, "etag-" + std::to_string(++etag_counter_)};
  }

  /// The current document text with its _etag, as a query would return it.
  rapidjson::Document get(const std::string& id) const {
    const Stored& stored = documents_.at(id);
    auto parsed = common::parse_json(stored.json);
    rapidjson::Document document = std::move(parsed.value());
    document.RemoveMember("_etag");
    document.AddMember("_etag", rapidjson::Value(stored.etag.c_str(), document.GetAllocator()),
                       document.GetAllocator());
    return document;
  }

  net::awaitable<cosmos::Result<cosmos::QueryPage>> query_documents(
      const cosmos::QueryRequest& request) override {
    ++queries;
    last_query = request;
    if (auto error = throttled_answer("query")) co_return common::Unexpected{std::move(*error)};
    // A query pinned to a range sees only the documents whose EPK lies in it (or in the part
    // x-ms-start-epk/x-ms-end-epk name); a range that split answers 410/1002.
    std::string min;
    std::string max = "FF";
    if (request.partition_key_range_id) {
      ++pinned_queries[*request.partition_key_range_id];
      const cosmos::PartitionKeyRange* range = ranges.find(*request.partition_key_range_id);
      if (range == nullptr) {
        co_return common::Unexpected{cosmos::Error{410, 1002, "PartitionKeyRangeGone"}};
      }
      min = request.start_epk.empty() ? range->min_inclusive : request.start_epk;
      max = request.end_epk.empty() ? range->max_exclusive : request.end_epk;
    }
    const rapidjson::Pointer key_path(partition_key_path.c_str());
    auto inside = [&](const rapidjson::Document& document) {
      return FakeRanges::contains(min, max, FakeRanges::epk_of(document, key_path));
    };
    if (request.query.find("COUNT(1)") != std::string::npos) {
      std::size_t counted = 0;
      for (const std::string& id : order_) counted += inside(get(id)) ? 1 : 0;
      cosmos::QueryPage count;
      count.body.Parse(("{\"Documents\":[" + std::to_string(counted) + "]}").c_str());
      co_return count;
    }
    if (on_query) on_query(request);
    // The continuation is an index into all documents: a child range takes its parent's.
    std::size_t next = request.continuation.empty() ? 0 : std::stoul(request.continuation);
    cosmos::QueryPage page;
    page.body.SetObject();
    rapidjson::Value documents(rapidjson::kArrayType);
    for (; next < order_.size() &&
           documents.Size() < static_cast<rapidjson::SizeType>(request.max_item_count);
         ++next) {
      rapidjson::Document document = get(order_[next]);
      if (!inside(document)) continue;
      documents.PushBack(rapidjson::Value(document, page.body.GetAllocator()),
                         page.body.GetAllocator());
    }
    page.body.AddMember("Documents", documents, page.body.GetAllocator());
    page.continuation = next < order_.size() ? std::to_string(next) : "";
    co_return page;
  }

  net::awaitable<cosmos::Result<cosmos::DocumentRead>> read_document(
      const cosmos::ContainerRef&, std::string_view id, const cosmos::PartitionKey&) override {
    ++reads;
    if (auto error = throttled_answer("read")) co_return common::Unexpected{std::move(*error)};
    const auto it = documents_.find(std::string(id));
    if (it == documents_.end()) co_return common::Unexpected{cosmos::Error{404, 0, "NotFound"}};
    co_return cosmos::DocumentRead{get(std::string(id)), it->second.etag, 1};
  }

  net::awaitable<cosmos::Result<cosmos::WriteAck>> replace_document(
      const cosmos::ContainerRef& container,
      std::string_view id,
      const cosmos::PartitionKey& key,
      std::string body,
      std::string_view if_match) override {
    ++single_writes;
    if (auto error = throttled_answer("replace")) co_return common::Unexpected{std::move(*error)};
    const cosmos::WriteOperation operation{cosmos::WriteOperation::Kind::kReplace, std::string(id),
                                           key, std::move(body), std::string(if_match)};
    const int status = check(operation);
    if (status != 200) co_return common::Unexpected{cosmos::Error{status, 0, "fake failure"}};
    std::string etag = apply(operation, container);
    if (lose_ack && lose_ack(operation.id)) {
      // The write landed, its answer was lost, and the client's retry met the new etag.
      ++conflicts;
      co_return common::Unexpected{cosmos::Error{412, 0, "PreconditionFailed"}};
    }
    co_return cosmos::WriteAck{200, std::move(etag), 1};
  }

  /// Atomic batches are all or nothing, as the service does them: the first failing operation
  /// keeps its status, the others answer 424 and nothing is applied. Bulk applies each one.
  net::awaitable<cosmos::Result<cosmos::BatchResponse>> execute_batch(
      const cosmos::BatchRequest& request) override {
    ++batches;
    batch_sizes.push_back(request.operations.size());
    last_batch_kind = request.kind;
    if (auto error = throttled_answer("batch")) co_return common::Unexpected{std::move(*error)};
    if (refuse_batches) co_return common::Unexpected{cosmos::Error{400, 0, "BadRequest"}};
    if (request.kind == cosmos::BatchKind::kBulk &&
        ranges.find(request.partition_key_range_id) == nullptr) {
      co_return common::Unexpected{cosmos::Error{410, 1002, "PartitionKeyRangeGone"}};
    }
    const bool atomic = request.kind == cosmos::BatchKind::kAtomic;
    cosmos::BatchResponse response;
    bool failed = false;
    for (const cosmos::WriteOperation* operation : request.operations) {
      if (atomic) CHECK(operation->key == request.key);
      if (!atomic) CHECK(in_range(operation->key, request.partition_key_range_id));
      const int throttle = throttle_in_batch ? throttle_in_batch(operation->id) : 0;
      if (throttle != 0 && !failed) ++throttled;
      const int status = failed ? 424 : throttle != 0 ? throttle : check(*operation);
      failed = failed || (atomic && status != 200);
      response.results.push_back(
          {status, 0, {}, 1, std::chrono::milliseconds(throttle != 0 ? 1 : 0)});
      if (!atomic && status == 200) {
        response.results.back().etag = apply(*operation, request.container);
      }
    }
    for (std::size_t i = 0; atomic && i < response.results.size(); ++i) {
      auto& result = response.results[i];
      if (failed && result.status == 200) result.status = 424;
      if (!failed) result.etag = apply(*request.operations[i], request.container);
    }
    response.request_charge = static_cast<double>(request.operations.size());
    co_return response;
  }

  /// Upserts (single or in a batch) land in `copies`, keyed by container name and id: the
  /// documents above are never touched by them.
  net::awaitable<cosmos::Result<cosmos::WriteAck>> upsert_document(
      const cosmos::ContainerRef& container,
      const cosmos::PartitionKey& key,
      std::string body) override {
    ++single_writes;
    if (auto error = throttled_answer("upsert")) co_return common::Unexpected{std::move(*error)};
    auto parsed = common::parse_json(body);
    const cosmos::WriteOperation operation{
        cosmos::WriteOperation::Kind::kUpsert,
        std::string(common::string_member(*parsed, "id").value()),
        key,
        std::move(body),
        {}};
    const int status = check(operation);
    if (status != 200) co_return common::Unexpected{cosmos::Error{status, 0, "fake failure"}};
    co_return cosmos::WriteAck{200, apply(operation, container), 1};
  }

  net::awaitable<cosmos::Result<bool>> create_container(
      std::string_view, std::string_view id, std::string_view partition_key_path) override {
    const bool created = created_containers.emplace(id, partition_key_path).second;
    co_return created;
  }

  net::awaitable<cosmos::Result<std::vector<cosmos::PartitionKeyRange>>> read_partition_key_ranges(
      const cosmos::ContainerRef&) override {
    ++range_reads;
    co_return ranges.list();
  }

  net::awaitable<cosmos::Result<cosmos::PartitionKeyDefinition>> read_partition_key_definition(
      const cosmos::ContainerRef&) override {
    co_return cosmos::PartitionKeyDefinition{cosmos::PartitionKeyDefinition::Kind::kHash, 2};
  }

  std::function<void(const cosmos::QueryRequest&)> on_query;
  /// A status (429, 503, ...) to answer a whole request of `operation` ("query", "read",
  /// "replace", "upsert", "batch") with, with x-ms-retry-after-ms 1; 0: serve it.
  std::function<int(std::string_view operation)> throttle_request;
  /// A status to answer one operation inside a batch with (retry after 1 ms); 0: apply it.
  std::function<int(const std::string& id)> throttle_in_batch;
  int throttled = 0;                         ///< answers given by the two hooks above
  std::chrono::milliseconds retry_after{1};  ///< x-ms-retry-after-ms of `throttle_request`
  bool refuse_batches = false;
  /// The container's ranges (one by default); pinned queries and bulk batches follow them.
  FakeRanges ranges;
  std::string partition_key_path = "/ws";     ///< where documents hold their key, for their EPK
  std::map<std::string, int> pinned_queries;  ///< range id -> queries pinned to it
  int range_reads = 0;
  int batches = 0;
  int single_writes = 0;
  std::vector<std::size_t> batch_sizes;
  cosmos::BatchKind last_batch_kind = cosmos::BatchKind::kAtomic;
  std::function<void(const std::string& id)> before_replace;
  std::function<bool(const std::string& id)> fail_replace;
  /// True: this single replace is applied but answered 412 (a retry after a lost answer).
  std::function<bool(const std::string& id)> lose_ack;
  std::function<bool(const std::string& body)> fail_upsert;
  struct Copy {
    cosmos::PartitionKey key;
    std::string json;
  };
  std::map<std::string, std::map<std::string, Copy>> copies;           ///< container -> id -> copy
  std::map<std::string, std::string, std::less<>> created_containers;  ///< name -> key path
  int upserts = 0;
  int queries = 0;
  int reads = 0;
  int replaces = 0;
  int conflicts = 0;
  cosmos::QueryRequest last_query;
  std::map<std::string, cosmos::PartitionKey> last_key;

 private:
  /// Whether a partition key hashes into range `id` (bulk batches must hold only such keys).
  bool in_range(const cosmos::PartitionKey& key, const std::string& id) const {
    const cosmos::PartitionKeyRange* range = ranges.find(id);
    auto epk = cosmos::effective_partition_key(
        cosmos::PartitionKeyDefinition{cosmos::PartitionKeyDefinition::Kind::kHash, 2}, key);
    return range != nullptr && epk &&
           FakeRanges::contains(range->min_inclusive, range->max_exclusive, *epk);
  }

  /// The error `throttle_request` wants for `operation`, if any.
  std::optional<cosmos::Error> throttled_answer(std::string_view operation) {
    const int status = throttle_request ? throttle_request(operation) : 0;
    if (status == 0) return std::nullopt;
    ++throttled;
    cosmos::Error error{status, 3200, "fake throttling"};
    error.retry_after = retry_after;
    return error;
  }

  /// The status a write would get now (the application's hook runs first).
  int check(const cosmos::WriteOperation& operation) {
    if (operation.kind == cosmos::WriteOperation::Kind::kUpsert) {
      return fail_upsert && fail_upsert(operation.body) ? 500 : 200;
    }
    if (before_replace) before_replace(operation.id);
    if (fail_replace && fail_replace(operation.id)) return 500;
    const auto it = documents_.find(operation.id);
    if (it == documents_.end()) return 404;
    if (it->second.etag != operation.if_match) {
      ++conflicts;
      return 412;
    }
    return 200;
  }

  /// Applies a checked write; returns the new etag.
  std::string apply(const cosmos::WriteOperation& operation,
                    const cosmos::ContainerRef& container) {
    if (operation.kind == cosmos::WriteOperation::Kind::kUpsert) {
      ++upserts;
      copies[container.container][operation.id] = Copy{operation.key, operation.body};
      return "etag-copy";
    }
    ++replaces;
    last_key[operation.id] = operation.key;
    put(operation.body);
    return documents_[operation.id].etag;
  }

  std::map<std::string, Stored> documents_;
  std::vector<std::string> order_;
  int etag_counter_ = 0;
};

}  // namespace backfilld::testing
