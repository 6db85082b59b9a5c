#pragma once
/// One job as the manager holds it: the persisted record (Job) and what exists only while the
/// daemon runs it (JobRun), in one object, so nothing about a job lives in two places.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/retry_scope.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/governor/job_governor.hpp"
#include "daemon/jobs/job.hpp"

namespace backfilld::jobs {

/// What exists only while the daemon runs: control flags, the runner, the resume signal.
struct JobRun {
  explicit JobRun(net::any_io_executor executor)
      : resume(std::move(executor), net::steady_timer::time_point::max()) {}
  /// Ends the waits of the run (pacing, retries), so a pause, stop, knob or shutdown is seen now.
  void wake() {
    if (runner != nullptr) runner->wake();
    if (estimate_scope) estimate_scope->wake();
    if (governor) governor->wake();
  }
  bool active = false;  ///< a run coroutine exists and holds the job's slots
  bool stop_requested = false;
  engine::ContainerRunner* runner = nullptr;
  /// The run's request-unit budgets (created when the run starts, kept for its status after).
  std::unique_ptr<governor::JobGovernor> governor;
  /// The retries of the count before the run (the runner has its own).
  std::optional<cosmos::RetryScope> estimate_scope;
  net::steady_timer resume;
  std::optional<engine::Counts> observed;  ///< the last run's, including an unwritten batch
  std::chrono::steady_clock::time_point run_started{};
  std::uint64_t scanned_at_start = 0;
};

/// A job in the manager: its record and its run.
struct ManagedJob {
  ManagedJob(Job record, net::any_io_executor executor)
      : job(std::move(record)), run(std::move(executor)) {}
  Job job;
  JobRun run;
};

}  // namespace backfilld::jobs
