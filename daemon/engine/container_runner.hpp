#pragma once
/// Runs one migration over one container: page through it, transform each document, write the
/// rewritten ones back conditionally, count, enforce stop criteria, report every batch. The next
/// page is fetched while the current one is written; a batch is reported (and checkpointed)
/// only once every write of it has completed.
#include <rapidjson/pointer.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/cosmos/retry_scope.hpp"
#include "daemon/engine/clock.hpp"
#include "daemon/engine/counts.hpp"
#include "daemon/engine/document_writer.hpp"
#include "daemon/engine/rate_limiter.hpp"
#include "daemon/engine/run_settings.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

/// Where a run is: what a checkpoint persists.
struct Progress {
  Counts counts;
  std::string continuation;  ///< of the next page; empty with batches == 0 means "from the start"
  std::uint64_t batches = 0;
  bool finished = false;  ///< the last page has been processed
};

/// What one batch did, for logs and metrics.
struct BatchReport {
  Counts counts;                ///< this batch only
  std::uint64_t conflicts = 0;  ///< 412s resolved by re-reading
  double request_charge = 0;    ///< RU of the batch's query, writes and re-reads
  std::chrono::steady_clock::duration elapsed{};
};

enum class RunStatus { kSucceeded, kFailed, kStopped };

struct RunOutcome {
  RunStatus status = RunStatus::kSucceeded;
  std::string reason;  ///< why it failed or stopped
};

struct RunHooks {
  /// Awaited before each batch: a paused job waits here; false stops the run.
  std::function<net::awaitable<bool>()> before_batch;
  /// Called after each batch whose writes have all completed: checkpoint, metrics.
  std::function<void(const Progress&, const BatchReport&)> after_batch;
  /// True when waits must end now (pause, stop, shutdown): pacing ends, and retries of
  /// throttled requests give up, leaving the batch in flight unfinished and not checkpointed.
  std::function<bool()> interrupted;
};

/// What to run: one container of a manifest.
struct RunTarget {
  std::string job_label;  ///< for logs: "<manifest id>/<container>"
  cosmos::ContainerRef container;
  std::string partition_key_path;
  std::optional<std::string> product_id;
  migrations::StopCriteria stop;
  migrations::Mode mode = migrations::Mode::kDryRun;
  std::string rewritten_name = "rewritten";  ///< "encrypted" for encryption: used in logs
};

class ContainerRunner {
 public:
  ContainerRunner(cosmos::DocumentStore& store,
                  const migrations::Transform& transform,
                  RunTarget target,
                  const RunSettings& settings,
                  const Clock& clock,
                  RunHooks hooks = {},
                  Progress start = {});

  /// Runs from the start position to the end of the container, a stop, or a failure.
  net::awaitable<RunOutcome> run();

  /// Counts as of the last completed batch (what a checkpoint holds).
  const Progress& progress() const { return progress_; }
  /// Counts including a batch that crossed a stop criterion and was not written.
  const Counts& observed() const { return observed_; }
  /// Why the run is waiting right now ("rate limit: 100 documents/s", "throttled by Cosmos
  /// (429 throttled on replace) since ..."), or "".
  std::string waiting_reason() const;
  /// The run's retries: since when and why Cosmos holds it back.
  const cosmos::RetryScope& retry_scope() const { return retry_scope_; }
  /// The store as this run uses it: its retries belong to the run (checks use it too).
  cosmos::DocumentStore& store() { return store_; }
  /// Documents in write requests in flight right now.
  std::size_t inflight_writes() const { return inflight_writes_; }
  /// Ends the waits in progress: a pacing wait recomputes with the knobs as they are now (a
  /// PATCH applies within the batch), and ends, like every retry wait, once interrupted.
  void wake();
  /// Whether the run's waits must end now (pause, stop, shutdown): see RunHooks::interrupted.
  bool interrupted() const { return hooks_.interrupted && hooks_.interrupted(); }
  /// Pacing waits that a wake() cut short (tests: the knob took effect during the wait).
  std::uint64_t pacing_waits_cut() const { return pacing_waits_cut_; }

 private:
  class Prefetch;
  net::awaitable<RunOutcome> run_pages(Prefetch& prefetch);
  net::awaitable<cosmos::Result<cosmos::QueryPage>> fetch_page(std::string continuation);
  /// The write of one rewritten document, or nullopt (logged) when it has no id or key.
  std::optional<PendingWrite> prepare_write(const rapidjson::Value& document,
                                            migrations::TransformResult result) const;
  void log_batch(const BatchReport& report) const;
  net::awaitable<void> pace(const BatchReport& last_batch);

  cosmos::RetryScope retry_scope_;
  std::unique_ptr<cosmos::DocumentStore> scoped_store_;  ///< null: the store never waits
  cosmos::DocumentStore& store_;
  const migrations::Transform& transform_;
  RunTarget target_;
  const RunSettings& settings_;
  const Clock& clock_;
  RunHooks hooks_;
  /// Where rewritten documents go: the scanned container, or a copy's container (copy-container
  /// upserts there, keyed by its partition key path; the source is never written).
  const migrations::CopyDestination* copy_;
  cosmos::ContainerRef write_container_;
  DocumentWriter writer_;
  Progress progress_;
  Counts observed_;
  rapidjson::Pointer partition_key_pointer_;  ///< of the container written
  std::string query_parameters_;
  RateLimiter document_limiter_;
  RateLimiter request_unit_limiter_;
  std::unique_ptr<common::Timer> pacing_timer_;
  std::string waiting_reason_;
  std::uint64_t pacing_waits_cut_ = 0;
  int failed_queries_ = 0;  ///< consecutive pages that met a retryable answer
  std::size_t inflight_writes_ = 0;
  std::chrono::steady_clock::time_point started_{};
  std::uint64_t scanned_at_start_ = 0;
};

}  // namespace backfilld::engine
