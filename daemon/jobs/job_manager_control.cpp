// JobManager, part three: what operators do to a job (pause, resume, stop, knobs) and what only
// the running daemon knows about it (live counts, rate, ETA, waiting reason, writes in flight).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/jobs/job_manager.hpp"
#include "daemon/jobs/job_metrics.hpp"

namespace backfilld::jobs {
namespace {

constexpr auto kThrottleMemory = std::chrono::seconds(5);

}  // namespace

common::Result<void> JobManager::pause(std::string_view id, std::string_view by) {
  ManagedJob* entry = scheduler_.find(id);
  if (entry == nullptr) return no_such_job(id);
  Job* job = &entry->job;
  if (is_terminal(job->state)) {
    return common::fail("conflict", "job " + job->id + " is " + std::string(to_string(job->state)));
  }
  JobRun& rt = entry->run;
  if (rt.stop_requested) return common::fail("conflict", "job " + job->id + " is stopping");
  job->pause_requested = true;
  // A job that has not begun a batch is paused at once; a running one at its next boundary.
  if (job->state == JobState::kQueued) set_state(*job, JobState::kPaused);
  persist(*job);
  rt.wake();
  spdlog::info("job {}: pause requested by {}", job->id, by);
  return {};
}

common::Result<void> JobManager::resume(std::string_view id, std::string_view by) {
  ManagedJob* entry = scheduler_.find(id);
  if (entry == nullptr) return no_such_job(id);
  Job* job = &entry->job;
  JobRun& rt = entry->run;
  if (is_terminal(job->state) || !job->pause_requested) {
    return common::fail("conflict", "job " + job->id + " is " + std::string(to_string(job->state)) +
                                        ", not paused");
  }
  job->pause_requested = false;
  if (rt.active) {
    persist(*job);
    rt.resume.cancel();  // the run's gate sets it running again
  } else {
    set_state(*job, JobState::kQueued);
    persist(*job);
    schedule();
  }
  spdlog::info("job {}: resumed by {}", job->id, by);
  return {};
}

common::Result<void> JobManager::stop(std::string_view id, std::string_view by) {
  ManagedJob* entry = scheduler_.find(id);
  if (entry == nullptr) return no_such_job(id);
  Job* job = &entry->job;
  if (is_terminal(job->state)) {
    return common::fail("conflict",
                        "job " + job->id + " is already " + std::string(to_string(job->state)));
  }
  JobRun& rt = entry->run;
  job->stopped_by = std::string(by);
  if (!rt.active) {
    job->pause_requested = false;
    finish(*job, JobState::kStopped, "stopped by operator " + job->stopped_by);
    return {};
  }
  rt.stop_requested = true;
  rt.resume.cancel();
  rt.wake();
  spdlog::info("job {}: stop requested by {}", job->id, by);
  return {};
}

common::Result<void> JobManager::patch(std::string_view id,
                                       const KnobPatch& patch,
                                       std::string_view by) {
  ManagedJob* entry = scheduler_.find(id);
  if (entry == nullptr) return no_such_job(id);
  Job* job = &entry->job;
  if (is_terminal(job->state)) {
    return common::fail("conflict", "job " + job->id + " is " + std::string(to_string(job->state)));
  }
  if (auto valid = engine::validate(patch); !valid) return valid;
  job->knobs = engine::apply(job->knobs, patch);
  persist(*job);
  JobRun& rt = entry->run;
  rt.wake();  // a pacing wait recomputes with the new limits
  spdlog::info(
      "job {}: knobs changed by {}: batchSize={} writeConcurrency={} rangeConcurrency={} "
      "maxDocumentsPerSecond={} maxRequestUnitsPerSecond={} maxThroughputFraction={} writeMode={}",
      job->id, by, job->knobs.batch_size, job->knobs.write_concurrency,
      job->knobs.range_concurrency, job->knobs.max_documents_per_second,
      job->knobs.max_request_units_per_second, job->knobs.max_throughput_fraction,
      engine::to_string(job->knobs.write_mode));
  return {};
}

void JobManager::sample_metrics() {
  std::vector<std::pair<std::string, std::string>> signals;
  for (const auto& [source, signal] : governor_.throttles().signals()) {
    signals.emplace_back(std::string(governor::to_string(source)),
                         std::string(governor::to_string(signal.level)));
  }
  metrics_.set_throttle_signals(signals);
  const governor::ThrottleSignal* in_force = governor_.throttle();
  const double held = in_force == nullptr                                  ? 0.0
                      : in_force->level == governor::ThrottleLevel::kPause ? 1.0
                                                                           : 0.5;
  for (ManagedJob* entry : scheduler_.in_order()) {
    if (entry->run.governor && !is_terminal(entry->job.state)) {
      const governor::JobBudget budget = entry->run.governor->snapshot();
      const auto backing_off = static_cast<std::size_t>(
          std::count_if(budget.ranges.begin(), budget.ranges.end(),
                        [](const governor::RangeBudget& range) { return range.backing_off; }));
      metrics_.set_request_units(job_labels(entry->job), budget.budget, budget.spent_per_second,
                                 backing_off, held);
    }
    if (entry->run.runner != nullptr) {
      const engine::ContainerRunner& runner = *entry->run.runner;
      metrics_.set_inflight_writes(job_labels(entry->job),
                                   static_cast<std::int64_t>(runner.inflight_writes()));
      std::size_t finished = 0;
      std::size_t open = 0;
      for (const engine::RangePosition& position : runner.progress().ranges) {
        if (!position.split_into.empty()) continue;
        ++(position.finished ? finished : open);
      }
      const std::size_t scanning = runner.active_ranges().size();
      metrics_.set_ranges(job_labels(entry->job), scanning, open - std::min(open, scanning),
                          finished);
    }
  }
}

JobLive JobManager::live(const Job& job) const {
  JobLive live;
  const ManagedJob* entry = scheduler_.find(job.id);
  const JobRun* rt = entry == nullptr ? nullptr : &entry->run;
  if (rt != nullptr && rt->runner != nullptr) {
    live.observed = rt->runner->observed();
    live.inflight_writes = rt->runner->inflight_writes();
    live.active_ranges = rt->runner->active_ranges();
    live.ranges = rt->runner->progress().ranges;
    const double seconds =
        std::chrono::duration<double>(clock_.monotonic_now() - rt->run_started).count();
    if (seconds > 0) {
      live.rate_per_second =
          static_cast<double>(live.observed.scanned - rt->scanned_at_start) / seconds;
    }
    if (live.rate_per_second > 0 && job.estimated_total) {
      const double left =
          static_cast<double>(*job.estimated_total) - static_cast<double>(live.observed.scanned);
      live.eta_seconds = std::max(0.0, left) / live.rate_per_second;
    }
  } else if (rt != nullptr && rt->observed) {
    live.observed = *rt->observed;
    live.ranges = job.progress.ranges;
  } else {
    live.observed = job.progress.counts;
    live.ranges = job.progress.ranges;
  }
  live.pause_requested = job.pause_requested;
  if (rt != nullptr) live.stop_requested = rt->stop_requested;
  if (rt != nullptr && rt->governor) live.budget = rt->governor->snapshot();

  if (is_terminal(job.state)) return live;
  if (const governor::ThrottleSignal* signal = governor_.throttle(); signal != nullptr) {
    live.throttle = *signal;
  }
  if (shutting_down_) {
    live.waiting = "the daemon is shutting down";
  } else if (live.stop_requested) {
    live.waiting = "stopping after the batch in flight";
  } else if (job.state == JobState::kPaused) {
    live.waiting = "paused by an operator";
  } else if (live.pause_requested) {
    live.waiting = "pausing after the batch in flight";
  } else if (governor_.paused_by_throttle()) {
    live.waiting = "held, no new batch: " + governor::ThrottleBoard::describe(*live.throttle);
  } else if (job.state == JobState::kQueued) {
    live.waiting = scheduler_.queued_reason(job);
  } else if (rt != nullptr && rt->runner != nullptr && !rt->runner->waiting_reason().empty()) {
    live.waiting = rt->runner->waiting_reason();
  } else if (last_throttled_ != std::chrono::steady_clock::time_point{} &&
             clock_.monotonic_now() - last_throttled_ < kThrottleMemory) {
    live.waiting = "Cosmos is throttling (429): retrying after its x-ms-retry-after-ms";
  }
  return live;
}

void JobManager::observe_request(const cosmos::RequestEvent& event) {
  if (event.status == 429) last_throttled_ = clock_.monotonic_now();
}

}  // namespace backfilld::jobs
