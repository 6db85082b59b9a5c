#pragma once
/// The Cosmos DB REST client: master-key auth, TLS, a keep-alive connection pool, deadlines and
/// retries. Every call returns its outcome as a value; nothing throws for service errors.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/common/clock.hpp"
#include "daemon/cosmos/auth.hpp"
#include "daemon/cosmos/connection_pool.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/cosmos/retry_policy.hpp"
#include "daemon/cosmos/retry_scope.hpp"

namespace backfilld::cosmos {

struct ClientOptions {
  std::string endpoint;    ///< COSMOS_ENDPOINT, https://host:port
  std::string master_key;  ///< COSMOS_KEY, base64
  TlsOptions tls;
  PoolOptions pool;
  RetryOptions retry;
  std::chrono::milliseconds request_timeout{30'000};  ///< per attempt
  std::string api_version = "2018-12-31";
  std::string user_agent = "backfilld/" BACKFILLD_VERSION;
  /// Request dates, durations and unscoped retry waits; socket deadlines stay on real time.
  const common::Clock* clock = &common::real_clock();
};

/// What one attempt did; the metrics layer counts these.
struct RequestEvent {
  std::string_view operation;  ///< "query", "read", "replace", ...
  int status = 0;              ///< 0: transport failure
  int substatus = 0;
  double request_charge = 0;
  std::chrono::steady_clock::duration duration{};
  std::optional<RetryCause> retry = {};  ///< set when this attempt will be retried
};

using RequestObserver = std::function<void(const RequestEvent&)>;

class Client final : public DocumentStore {
 public:
  /// Builds a client; errors name the option at fault (endpoint, key, CA file).
  static common::Result<std::unique_ptr<Client>> create(net::any_io_executor executor,
                                                        ClientOptions options);

  net::awaitable<Result<QueryPage>> query_documents(const QueryRequest& request) override;
  net::awaitable<Result<DocumentRead>> read_document(const ContainerRef& container,
                                                     std::string_view id,
                                                     const PartitionKey& key) override;
  net::awaitable<Result<WriteAck>> replace_document(const ContainerRef& container,
                                                    std::string_view id,
                                                    const PartitionKey& key,
                                                    std::string body,
                                                    std::string_view if_match) override;

  /// One transactional (atomic) or bulk batch request; per-operation statuses are in the
  /// response, including a failed atomic batch (207 from the service).
  net::awaitable<Result<BatchResponse>> execute_batch(const BatchRequest& request) override;

  /// Creates a document (409 when the id exists in that partition).
  net::awaitable<Result<WriteAck>> create_document(const ContainerRef& container,
                                                   const PartitionKey& key,
                                                   std::string body);
  /// Creates or replaces a document by id and partition key.
  net::awaitable<Result<WriteAck>> upsert_document(const ContainerRef& container,
                                                   const PartitionKey& key,
                                                   std::string body) override;
  net::awaitable<Result<std::vector<PartitionKeyRange>>> read_partition_key_ranges(
      const ContainerRef& container) override;
  net::awaitable<Result<PartitionKeyDefinition>> read_partition_key_definition(
      const ContainerRef& container) override;
  net::awaitable<Result<Throughput>> read_throughput(const ContainerRef& container) override;

  /// Creates a database; false when it already existed.
  net::awaitable<Result<bool>> create_database(std::string_view id);
  /// Creates a container with a hash partition key on `partition_key_path`; false when it
  /// already existed.
  net::awaitable<Result<bool>> create_container(std::string_view database,
                                                std::string_view id,
                                                std::string_view partition_key_path) override;

  /// A client on the same connections whose retries belong to `scope`: no attempt or time
  /// limit, each wait ended by the scope (a job's pause, stop, shutdown).
  std::unique_ptr<DocumentStore> with_retry_scope(RetryScope& scope,
                                                  RequestGovernor* governor) override;

  /// Called after every attempt (success, failure or retry), also by its scoped clients.
  void set_observer(RequestObserver observer) { *observer_ = std::move(observer); }
  ConnectionPool& pool() { return *pool_; }

 private:
  struct Call;
  struct Reply;

  Client(net::any_io_executor executor,
         ClientOptions options,
         MasterKey key,
         std::shared_ptr<ConnectionPool> pool,
         std::shared_ptr<RequestObserver> observer,
         RetryScope* scope,
         RequestGovernor* governor);

  /// The offer of the resource at `link` (type "colls" or "dbs"), nullopt when it has none.
  net::awaitable<Result<std::optional<Throughput>>> read_offer(std::string link,
                                                               std::string_view type);
  /// Signs, sends and retries one REST call; a non-2xx final answer becomes an Error.
  net::awaitable<Result<Reply>> execute(Call call);
  /// The request without date and signature; moves the body out of `call`.
  HttpRequest build_request(Call& call) const;
  /// Dates and signs `request` (again on every attempt: tokens expire).
  void sign(const Call& call, HttpRequest& request) const;

  net::any_io_executor executor_;
  ClientOptions options_;
  MasterKey key_;
  std::shared_ptr<ConnectionPool> pool_;
  std::shared_ptr<RequestObserver> observer_;
  RetryScope* scope_;          ///< null: retries limited by options_.retry
  RequestGovernor* governor_;  ///< null: no request-unit budget
  std::mt19937_64 jitter_;
};

}  // namespace backfilld::cosmos
