#pragma once
/// Plain values exchanged with Cosmos: container references, partition keys, pages, acks.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

namespace backfilld::cosmos {

/// A container by name.
struct ContainerRef {
  std::string database;
  std::string container;
  /// "dbs/{database}/colls/{container}", the name-based resource link.
  std::string link() const { return "dbs/" + database + "/colls/" + container; }
};

/// A partition key value as the `x-ms-documentdb-partitionkey` header carries it: a JSON array
/// with one value, non-ASCII escaped (`["ws-1"]`).
struct PartitionKey {
  std::string header;
  /// The key of a document whose partition key value is `value`.
  static PartitionKey of(const rapidjson::Value& value);
  /// The key of documents that have no value at the partition key path.
  static PartitionKey none() { return PartitionKey{"[{}]"}; }
  bool operator==(const PartitionKey&) const = default;
};

/// A query page request. `continuation` empty = first page.
struct QueryRequest {
  ContainerRef container;
  std::string query;                   ///< e.g. "SELECT * FROM c WHERE c.productId = @productId"
  std::string parameters_json = "[]";  ///< JSON array of {"name", "value"}
  int max_item_count = 100;
  std::string continuation = {};
  std::optional<std::string> partition_key_range_id = {};
  std::optional<PartitionKey> partition_key = {};  ///< a single-partition query when set
};

/// One page of a query. `continuation` is empty on the last page.
struct QueryPage {
  rapidjson::Document body;  ///< {"Documents": [...], "_count": N}
  std::string continuation;
  double request_charge = 0;
  /// The page's documents (an array, possibly empty).
  rapidjson::Value& documents() { return body["Documents"]; }
  const rapidjson::Value& documents() const { return body["Documents"]; }
};

/// A document read back, with its etag.
struct DocumentRead {
  rapidjson::Document document;
  std::string etag;
  double request_charge = 0;
};

/// A write the service acknowledged.
struct WriteAck {
  int status = 0;
  std::string etag;  ///< the new _etag
  double request_charge = 0;
};

/// One partition key range (`GET .../pkranges`).
struct PartitionKeyRange {
  std::string id;
  std::string min_inclusive;
  std::string max_exclusive;
  std::vector<std::string> parents;
};

}  // namespace backfilld::cosmos
