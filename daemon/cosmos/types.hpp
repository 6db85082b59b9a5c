#pragma once
/// Plain values exchanged with Cosmos: container references, partition keys, pages, acks.
#include <rapidjson/document.h>

#include <chrono>
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
  /// With a range id: only the part [start_epk, end_epk) of the range (a range that merged
  /// holds more than the scan it continues); empty: the whole range.
  std::string start_epk = {};
  std::string end_epk = {};
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

/// One write of a batch request. Replace is conditional on `if_match`; upsert (a write into
/// another container) may leave it empty.
struct WriteOperation {
  enum class Kind { kReplace, kUpsert };
  Kind kind = Kind::kReplace;
  std::string id;
  PartitionKey key;
  std::string body;      ///< the whole document, serialized once
  std::string if_match;  ///< the `_etag` the write is conditional on; empty: unconditional
};

/// How the service applies a batch request's operations.
enum class BatchKind {
  kAtomic,  ///< transactional batch: one partition key value, all or nothing
  kBulk,    ///< non-atomic, continue on error: one partition key range, as the SDKs' bulk mode
};

/// A batch request (`x-ms-cosmos-is-batch-request`), at most 100 operations.
struct BatchRequest {
  ContainerRef container;
  BatchKind kind = BatchKind::kAtomic;
  PartitionKey key = {};               ///< atomic: the one partition key value of every operation
  std::string partition_key_range_id;  ///< bulk: the range every operation falls into
  std::vector<const WriteOperation*> operations;
};

/// One operation's outcome inside a batch response.
struct OperationResult {
  int status = 0;  ///< 2xx applied; 412 etag changed; 424 not applied (another one failed)
  int substatus = 0;
  std::string etag;
  double request_charge = 0;
  std::chrono::milliseconds retry_after{0};  ///< with 429
};

/// A batch response: one result per operation, in request order.
struct BatchResponse {
  std::vector<OperationResult> results;
  double request_charge = 0;
};

/// The largest batch request the service takes.
inline constexpr std::size_t kMaxBatchOperations = 100;

/// One partition key range (`GET .../pkranges`).
struct PartitionKeyRange {
  std::string id;
  std::string min_inclusive;
  std::string max_exclusive;
  std::vector<std::string> parents;
};

/// A container's (or its database's) provisioned throughput.
struct Throughput {
  double request_units_per_second = 0;  ///< manual RU/s, or autoscale's maximum
  bool autoscale = false;
};

}  // namespace backfilld::cosmos
