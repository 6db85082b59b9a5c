#pragma once
/// The seam between the job engine and Cosmos: the engine scans and writes through this
/// interface; cosmos::Client implements it, unit tests fake it.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/effective_partition_key.hpp"
#include "daemon/cosmos/error.hpp"
#include "daemon/cosmos/request_governor.hpp"
#include "daemon/cosmos/retry_scope.hpp"
#include "daemon/cosmos/types.hpp"

namespace backfilld::cosmos {

class DocumentStore {
 public:
  virtual ~DocumentStore() = default;

  /// One page of a query; send `page.continuation` back to get the next.
  virtual net::awaitable<Result<QueryPage>> query_documents(const QueryRequest& request) = 0;

  /// The current version of one document (404 when it is gone).
  virtual net::awaitable<Result<DocumentRead>> read_document(const ContainerRef& container,
                                                             std::string_view id,
                                                             const PartitionKey& key) = 0;

  /// Replaces a document if its etag is still `if_match` (412 otherwise).
  virtual net::awaitable<Result<WriteAck>> replace_document(const ContainerRef& container,
                                                            std::string_view id,
                                                            const PartitionKey& key,
                                                            std::string body,
                                                            std::string_view if_match) = 0;

  /// Creates or replaces a document by id and partition key (copy-container writes copies so: a
  /// rerun rewrites the same copies).
  virtual net::awaitable<Result<WriteAck>> upsert_document(const ContainerRef& container,
                                                           const PartitionKey& key,
                                                           std::string body) = 0;

  /// Creates a container with a hash partition key on `partition_key_path` in an existing
  /// database; false when it already existed.
  virtual net::awaitable<Result<bool>> create_container(std::string_view database,
                                                        std::string_view id,
                                                        std::string_view partition_key_path) = 0;

  /// Sends a batch request. A store without batch support answers 400 for every request, which
  /// sends the engine back to single writes.
  virtual net::awaitable<Result<BatchResponse>> execute_batch(const BatchRequest& request) {
    (void)request;
    co_return common::Unexpected{Error{400, 0, "batch requests are not supported by this store"}};
  }

  /// A view of this store whose retries of 429/449/408/503/410/transport failures belong to
  /// `scope` (unlimited, ended by the scope), and whose every attempt is admitted by `governor`
  /// when one is given; nullptr when this store never waits (a fake).
  virtual std::unique_ptr<DocumentStore> with_retry_scope(RetryScope& scope,
                                                          RequestGovernor* governor) {
    (void)scope;
    (void)governor;
    return nullptr;
  }

  /// The container's partition key ranges (a scan or count can go range by range).
  virtual net::awaitable<Result<std::vector<PartitionKeyRange>>> read_partition_key_ranges(
      const ContainerRef& container) = 0;

  /// How the container hashes its partition key (routes a document to its range by EPK). A
  /// store that cannot say answers 400, and bulk writes then need a one-range container.
  virtual net::awaitable<Result<PartitionKeyDefinition>> read_partition_key_definition(
      const ContainerRef& container) {
    (void)container;
    co_return common::Unexpected{Error{400, 0, "this store does not read container definitions"}};
  }

  /// The container's provisioned throughput (its own offer, else its database's; 404: none, as
  /// on a serverless account). A store that cannot say answers 400.
  virtual net::awaitable<Result<Throughput>> read_throughput(const ContainerRef& container) {
    (void)container;
    co_return common::Unexpected{Error{400, 0, "this store does not read throughput offers"}};
  }
};

}  // namespace backfilld::cosmos
