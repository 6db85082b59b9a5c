#pragma once
/// Runs one migration over one container: page through it, transform each document, write the
/// rewritten ones back conditionally, count, enforce stop criteria, report every batch.
#include <rapidjson/pointer.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/engine/clock.hpp"
#include "daemon/engine/counts.hpp"
#include "daemon/engine/rate_limiter.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

/// Knobs read at every batch, so an operator's change applies at the next one.
struct RunSettings {
  std::uint32_t batch_size = 50;            ///< documents per query page
  std::uint32_t write_concurrency = 16;     ///< concurrent writes within a batch
  int max_conflict_retries = 5;             ///< 412 re-read rounds before a document is an error
  double max_documents_per_second = 0;      ///< 0: unlimited
  double max_request_units_per_second = 0;  ///< 0: unlimited
};

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
  /// Why the run is waiting right now ("rate limit: 100 documents/s"), or "".
  const std::string& waiting_reason() const { return waiting_reason_; }
  /// Writes in flight right now.
  std::size_t inflight_writes() const { return inflight_writes_; }
  /// Cuts a pacing wait short, so a pause or stop is seen at once.
  void wake();

 private:
  struct Write;
  net::awaitable<cosmos::Result<cosmos::QueryPage>> fetch_page();
  net::awaitable<migrations::TransformResult> write_back(rapidjson::Value& document,
                                                         migrations::TransformResult result,
                                                         BatchReport& report,
                                                         bool& failed);
  /// copy-container: upserts the document into the copy's container instead.
  net::awaitable<migrations::TransformResult> copy_out(const migrations::CopyDestination& copy,
                                                       const rapidjson::Value& document,
                                                       migrations::TransformResult result,
                                                       BatchReport& report,
                                                       bool& failed);
  void log_batch(const BatchReport& report) const;
  net::awaitable<void> pace(const BatchReport& last_batch);

  cosmos::DocumentStore& store_;
  const migrations::Transform& transform_;
  RunTarget target_;
  const RunSettings& settings_;
  const Clock& clock_;
  RunHooks hooks_;
  Progress progress_;
  Counts observed_;
  rapidjson::Pointer partition_key_pointer_;
  std::string query_parameters_;
  RateLimiter document_limiter_;
  RateLimiter request_unit_limiter_;
  std::optional<net::steady_timer> pacing_timer_;
  std::string waiting_reason_;
  std::size_t inflight_writes_ = 0;
  std::chrono::steady_clock::time_point started_{};
  std::uint64_t scanned_at_start_ = 0;
};

}  // namespace backfilld::engine
