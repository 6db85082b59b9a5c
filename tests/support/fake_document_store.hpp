#pragma once
/// An in-memory DocumentStore for engine unit tests: pages by offset, etags that change on every
/// write, and hooks to play a concurrent application or a failing service.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/document_store.hpp"

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
    if (request.query.find("COUNT(1)") != std::string::npos) {
      cosmos::QueryPage count;
      count.body.Parse(("{\"Documents\":[" + std::to_string(order_.size()) + "]}").c_str());
      co_return count;
    }
    if (on_query) on_query(request);
    const std::size_t offset = request.continuation.empty() ? 0 : std::stoul(request.continuation);
    const std::size_t end =
        std::min(order_.size(), offset + static_cast<std::size_t>(request.max_item_count));
    cosmos::QueryPage page;
    page.body.SetObject();
    rapidjson::Value documents(rapidjson::kArrayType);
    for (std::size_t i = offset; i < end; ++i) {
      rapidjson::Document document = get(order_[i]);
      documents.PushBack(rapidjson::Value(document, page.body.GetAllocator()),
                         page.body.GetAllocator());
    }
    page.body.AddMember("Documents", documents, page.body.GetAllocator());
    page.continuation = end < order_.size() ? std::to_string(end) : "";
    co_return page;
  }

  net::awaitable<cosmos::Result<cosmos::DocumentRead>> read_document(
      const cosmos::ContainerRef&, std::string_view id, const cosmos::PartitionKey&) override {
    ++reads;
    const auto it = documents_.find(std::string(id));
    if (it == documents_.end()) co_return common::Unexpected{cosmos::Error{404, 0, "NotFound"}};
    co_return cosmos::DocumentRead{get(std::string(id)), it->second.etag, 1};
  }

  net::awaitable<cosmos::Result<cosmos::WriteAck>> replace_document(
      const cosmos::ContainerRef&,
      std::string_view id,
      const cosmos::PartitionKey& key,
      std::string body,
      std::string_view if_match) override {
    const std::string key_id(id);
    if (before_replace) before_replace(key_id);
    if (fail_replace && fail_replace(key_id)) {
      co_return common::Unexpected{cosmos::Error{500, 0, "injected failure"}};
    }
    const auto it = documents_.find(key_id);
    if (it == documents_.end()) co_return common::Unexpected{cosmos::Error{404, 0, "NotFound"}};
    if (it->second.etag != if_match) {
      ++conflicts;
      co_return common::Unexpected{cosmos::Error{412, 0, "PreconditionFailed"}};
    }
    ++replaces;
    last_key[key_id] = key;
    put(body);
    co_return cosmos::WriteAck{200, documents_[key_id].etag, 1};
  }

  /// Upserts land in a separate container of their own (`copies`), keyed by container name and
  /// id: the source documents above are never touched by them.
  net::awaitable<cosmos::Result<cosmos::WriteAck>> upsert_document(
      const cosmos::ContainerRef& container,
      const cosmos::PartitionKey& key,
      std::string body) override {
    if (fail_upsert && fail_upsert(body)) {
      co_return common::Unexpected{cosmos::Error{500, 0, "injected failure"}};
    }
    auto parsed = common::parse_json(body);
    const std::string id(common::string_member(*parsed, "id").value());
    ++upserts;
    copies[container.container][id] = Copy{key, std::move(body)};
    co_return cosmos::WriteAck{200, "etag-copy", 1};
  }

  net::awaitable<cosmos::Result<bool>> create_container(
      std::string_view, std::string_view id, std::string_view partition_key_path) override {
    const bool created = created_containers.emplace(id, partition_key_path).second;
    co_return created;
  }

  net::awaitable<cosmos::Result<std::vector<cosmos::PartitionKeyRange>>> read_partition_key_ranges(
      const cosmos::ContainerRef&) override {
    co_return std::vector<cosmos::PartitionKeyRange>{{"0", "", "FF", {}}};
  }

  std::function<void(const cosmos::QueryRequest&)> on_query;
  std::function<void(const std::string& id)> before_replace;
  std::function<bool(const std::string& id)> fail_replace;
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
  std::map<std::string, Stored> documents_;
  std::vector<std::string> order_;
  int etag_counter_ = 0;
};

}  // namespace backfilld::testing
