#pragma once
/// Writes a page's rewritten documents back to the store: grouped into batch requests (by
/// partition key value, or by range in bulk mode), each operation conditional on its document's
/// etag. A 412 re-reads the document and re-applies the transform; an operation that was not
/// applied because another failed (424) or was throttled is resent; a batch request the store
/// refuses sends its documents back as single PUTs. Throttling and other retryable answers (429,
/// 449, 408, 503, 410, transport) never fail a document nor split a batch: the writes wait (in
/// the run's RetryScope) and are sent again for as long as the run goes on.
#include <rapidjson/document.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/cosmos/retry_scope.hpp"
#include "daemon/engine/run_settings.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

/// One rewritten document on its way back.
struct PendingWrite {
  enum class State { kPending, kDone, kFailed };
  cosmos::WriteOperation operation;
  migrations::TransformResult result;  ///< what the last transform of this document did
  State state = State::kPending;
  int conflicts = 0;   ///< 412s resolved by re-reading
  int resends = 0;     ///< times sent again after a 424 or a throttled operation
  bool alone = false;  ///< its batch request was refused: single PUTs from now on
  std::optional<rapidjson::Document> reread;  ///< the fresh copy after a conflict
  /// The document as last sent (the page's copy, then `reread`): a 412 whose fresh copy equals
  /// it means our own write landed and only its answer was lost.
  const rapidjson::Value* written = nullptr;
};

/// What the writes of one page cost.
struct WriteStats {
  std::uint64_t conflicts = 0;
  double request_charge = 0;
};

class DocumentWriter {
 public:
  DocumentWriter(cosmos::DocumentStore& store,
                 const migrations::Transform& transform,
                 const cosmos::ContainerRef& container,
                 const RunSettings& settings,
                 std::string_view job_label,
                 cosmos::RetryScope& retry_scope);

  /// Writes until every write is done or failed for good; at most `write_concurrency` requests
  /// in flight. `inflight` counts the documents in requests in flight, for status. False when
  /// the retry scope gave up (pause, stop, shutdown) while writes still waited to be resent:
  /// the page is not done and must not be checkpointed. Writes and re-reads go through `store`
  /// (the view of the page's range, whose budget they pay into).
  net::awaitable<bool> write_all(std::vector<PendingWrite>& writes,
                                 WriteStats& stats,
                                 std::size_t& inflight,
                                 cosmos::DocumentStore& store);

  /// The container's ranges changed (a split): bulk routing reads them again before its next
  /// round.
  void routing_changed() { routing_resolved_ = false; }

 private:
  struct Request;
  struct Backoff;
  /// Reads the ranges and the container's hash definition, once per change of the ranges.
  net::awaitable<void> resolve_routing();
  /// The range a write goes to in bulk mode, or nullopt (it goes by partition key value).
  std::optional<std::string> range_of(const PendingWrite& write) const;
  std::vector<Request> plan(const std::vector<PendingWrite>& writes) const;
  net::awaitable<void> write_single(cosmos::DocumentStore& store,
                                    PendingWrite& write,
                                    WriteStats& stats,
                                    Backoff& backoff);
  net::awaitable<void> write_batch(cosmos::DocumentStore& store,
                                   const Request& request,
                                   std::vector<PendingWrite>& writes,
                                   WriteStats& stats,
                                   Backoff& backoff);
  /// After a 412: re-read, re-apply; the write is pending again, done, or failed.
  net::awaitable<void> resolve_conflict(cosmos::DocumentStore& store,
                                        PendingWrite& write,
                                        WriteStats& stats,
                                        Backoff& backoff);
  void fail(PendingWrite& write, std::string_view what, const cosmos::Error& error) const;

  cosmos::DocumentStore& store_;
  const migrations::Transform& transform_;
  const cosmos::ContainerRef& container_;
  const RunSettings& settings_;
  std::string job_label_;
  cosmos::RetryScope& retry_scope_;
  bool routing_resolved_ = false;
  /// Bulk routing: the ranges, and how a partition key hashes to one (unknown: by value).
  std::vector<cosmos::PartitionKeyRange> ranges_;
  std::optional<cosmos::PartitionKeyDefinition> definition_;
};

}  // namespace backfilld::engine
