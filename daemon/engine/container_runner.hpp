#pragma once
/// Runs one migration over one container: page through it, transform each document, write the
/// rewritten ones back conditionally, count, enforce stop criteria, report every batch. The
/// container's partition key ranges are scanned in parallel (`range_concurrency` at once), each
/// with its own continuation; a range that splits is followed into its children. In each range
/// the next page is fetched while the current one is written; a batch is reported (and
/// checkpointed) only once every write of it has completed.
#include <rapidjson/pointer.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/cosmos/retry_scope.hpp"
#include "daemon/engine/clock.hpp"
#include "daemon/engine/counts.hpp"
#include "daemon/engine/document_writer.hpp"
#include "daemon/engine/range_positions.hpp"
#include "daemon/engine/run_settings.hpp"
#include "daemon/governor/job_governor.hpp"
#include "daemon/governor/rate_limiter.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

/// Where a run is: what a checkpoint persists.
struct Progress {
  Counts counts;
  /// Every range's position; empty until the run has read the container's ranges.
  std::vector<RangePosition> ranges;
  std::uint64_t batches = 0;  ///< of all ranges
  bool finished = false;      ///< every range's last page has been processed
};

/// What one batch did, for logs and metrics.
struct BatchReport {
  std::string range_id;         ///< the range the batch's page came from ("": cross-partition)
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
  /// Awaited before the first batch, and whenever every range's scan has stopped between
  /// batches because the run was interrupted: a paused job waits here; false stops the run.
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
                  Progress start = {},
                  governor::JobGovernor* governor = nullptr);

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
  /// The keys (RangePosition::key) of the ranges being scanned right now.
  const std::set<std::string>& active_ranges() const { return claimed_; }
  /// Ends the waits in progress: a pacing wait recomputes with the knobs as they are now (a
  /// PATCH applies within the batch), and ends, like every retry wait and every wait of the
  /// request-unit budget, once interrupted.
  void wake();
  /// Whether the run's waits must end now (pause, stop, shutdown): see RunHooks::interrupted.
  bool interrupted() const { return hooks_.interrupted && hooks_.interrupted(); }
  /// Pacing waits that a wake() cut short (tests: the knob took effect during the wait).
  std::uint64_t pacing_waits_cut() const { return pacing_waits_cut_; }

 private:
  class Prefetch;
  /// Reads the container's ranges when the run starts from the beginning.
  net::awaitable<bool> plan_ranges();
  /// Starts range scans up to range_concurrency, holds them for a pause, waits for them all.
  net::awaitable<RunOutcome> supervise();
  void launch_scans(const net::any_io_executor& executor);
  /// One range's scan, batch after batch, until it is done, given back or the run ends.
  net::awaitable<void> scan_range(std::string key);
  /// Transforms, writes and reports one page of the range `key`; false when the run ends.
  net::awaitable<bool> process_page(const std::string& key,
                                    cosmos::QueryPage& page,
                                    std::chrono::steady_clock::time_point batch_started,
                                    cosmos::DocumentStore& store);
  /// After the range of `key` answered "gone": its children replace it (the new key the scan
  /// goes on with), or, when the split is not listed yet, the same key after a wait; empty when
  /// the run ends.
  net::awaitable<std::string> follow_split(const std::string& key, const cosmos::Error& gone);
  /// A range scan waits here while the run is interrupted; false: the run stops.
  net::awaitable<bool> hold();
  RangePosition* find_position(const std::string& key);
  void end(RunOutcome outcome);
  void notify_supervisor();
  net::awaitable<cosmos::Result<cosmos::QueryPage>> fetch_page(RangePosition position,
                                                               cosmos::DocumentStore& store);
  /// The store as range `range_id`'s requests use it: admitted by the range's budget.
  std::unique_ptr<cosmos::DocumentStore> range_view(const std::string& range_id);
  /// Reads the container's provisioned throughput when it is due, for the governor.
  net::awaitable<void> refresh_throughput();
  /// The write of one rewritten document, or nullopt (logged) when it has no id or key.
  std::optional<PendingWrite> prepare_write(const rapidjson::Value& document,
                                            migrations::TransformResult result) const;
  void log_batch(const BatchReport& report) const;
  net::awaitable<void> pace(const BatchReport& last_batch);

  cosmos::RetryScope retry_scope_;
  cosmos::DocumentStore& base_store_;
  governor::JobGovernor* governor_;  ///< null: no request-unit budget (tests)
  bool refreshing_throughput_ = false;
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
  governor::RateLimiter document_limiter_;
  std::set<common::Timer*> pacing_timers_;  ///< of the pacing waits in progress
  std::string waiting_reason_;
  std::uint64_t pacing_waits_cut_ = 0;
  std::size_t inflight_writes_ = 0;
  /// The parallel scans: which ranges are claimed, how many run and how many are held.
  std::set<std::string> claimed_;
  std::size_t active_ = 0;
  std::size_t held_ = 0;
  std::uint64_t hold_generation_ = 0;  ///< advanced when held scans are released
  bool hold_result_ = true;            ///< what the release said: go on (true) or stop
  std::optional<RunOutcome> outcome_;  ///< set once the run ends: scans finish their batch
  std::optional<net::steady_timer> supervisor_signal_;
  std::optional<net::steady_timer> hold_signal_;
  std::chrono::steady_clock::time_point started_{};
  std::uint64_t scanned_at_start_ = 0;
};

}  // namespace backfilld::engine
