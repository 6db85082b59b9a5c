// JobManager, part two: one job's run (the job layer's only driver of the engine).
#include <spdlog/spdlog.h>

#include "daemon/common/json.hpp"
#include "daemon/common/time_format.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "daemon/jobs/job_metrics.hpp"
#include "migrations/transform.hpp"

namespace backfilld::jobs {

net::awaitable<std::optional<std::uint64_t>> JobManager::estimate_total(ManagedJob& entry) {
  const Job& job = entry.job;
  JobRun& rt = entry.run;
  std::string parameters = "[]";
  if (job.manifest.product_id) {
    parameters = R"([{"name":"@productId","value":)";
    common::append_json(rapidjson::Value(rapidjson::StringRef(job.manifest.product_id->c_str())),
                        parameters);
    parameters += "}]";
  }
  const cosmos::ContainerRef container{job.database, job.container};
  const std::string where = job.manifest.product_id ? "c.productId = @productId" : "";
  // Throttled and budgeted like any request of the job, and ended like them by a pause, stop,
  // shutdown or a `pause` throttle signal.
  rt.estimate_scope.emplace([this, &entry] { return interrupted(entry); });
  auto scoped = store_.with_retry_scope(*rt.estimate_scope, &rt.governor->range(""));
  auto total =
      co_await engine::count_documents(scoped ? *scoped : store_, container, where, parameters);
  scoped.reset();
  rt.estimate_scope.reset();
  if (!total) {
    spdlog::warn("job {}: no estimate of the total: {}", job.id, cosmos::describe(total.error()));
    co_return std::nullopt;
  }
  co_return *total;
}

bool JobManager::interrupted(const ManagedJob& entry) const {
  return entry.job.pause_requested || entry.run.stop_requested || shutting_down_ ||
         governor_.paused_by_throttle();
}

void JobManager::throttle_changed() {
  for (ManagedJob* entry : scheduler_.in_order()) {
    entry->run.wake();
    entry->run.resume.cancel();
  }
}

net::awaitable<bool> JobManager::gate(ManagedJob& entry) {
  Job& job = entry.job;
  JobRun& rt = entry.run;
  bool held = false;
  while ((job.pause_requested || governor_.paused_by_throttle()) && !rt.stop_requested &&
         !shutting_down_) {
    if (job.pause_requested && job.state != JobState::kPaused) {
      set_state(job, JobState::kPaused);
      persist(job);
      spdlog::info("job {} paused after batch {}", job.id, job.progress.batches);
    } else if (!job.pause_requested && !held) {
      // A `pause` throttle signal holds the job; it stays running and goes on by itself.
      held = true;
      spdlog::warn("job {} held after batch {}: {}", job.id, job.progress.batches,
                   governor::ThrottleBoard::describe(*governor_.throttle()));
    }
    rt.resume.expires_at(net::steady_timer::time_point::max());
    boost::system::error_code woken;
    co_await rt.resume.async_wait(net::redirect_error(net::use_awaitable, woken));
  }
  if (rt.stop_requested || shutting_down_) co_return false;
  if (held) spdlog::info("job {}: the throttle signal is lifted; going on", job.id);
  if (job.state != JobState::kRunning) {
    set_state(job, JobState::kRunning);
    persist(job);
    spdlog::info("job {} running again", job.id);
  }
  co_return true;
}

net::awaitable<void> JobManager::run_job(std::string id) {
  ManagedJob& entry = *scheduler_.find(id);
  Job& job = entry.job;
  JobRun& rt = entry.run;
  if (!job.pause_requested) set_state(job, JobState::kRunning);
  if (job.started_at == TimePoint{}) job.started_at = clock_.system_now();
  persist(job);
  spdlog::info("job {} ({}/{}) running{}", job.id, job.manifest.id, job.container,
               job.progress.batches > 0
                   ? fmt::format(", resuming after batch {}", job.progress.batches)
                   : "");
  rt.run_started = clock_.monotonic_now();
  rt.scanned_at_start = job.progress.counts.scanned;
  rt.observed.reset();
  rt.governor = std::make_unique<governor::JobGovernor>(
      governor_,
      [&job] {
        return governor::BudgetKnobs{job.knobs.max_request_units_per_second,
                                     job.knobs.max_throughput_fraction};
      },
      [this, &entry] { return interrupted(entry); });
  if (!job.estimated_total) job.estimated_total = co_await estimate_total(entry);

  auto release = [&] {
    rt.active = false;
    rt.runner = nullptr;
    scheduler_.release(job);
    if (shutting_down_ && scheduler_.running() == 0 && all_stopped_) all_stopped_->cancel();
  };

  auto transform =
      migrations::make_transform(job.manifest, job.spec(), keys_.keyring.get(), crypto::random_iv,
                                 common::iso8601(clock_.system_now()));
  if (!transform) {
    release();
    finish(job, JobState::kFailed, "cannot build the transform: " + transform.error().message);
    if (options_.on_run_ended) options_.on_run_ended(job);
    schedule();
    co_return;
  }
  const auto mode = job.dry_run ? migrations::Mode::kDryRun : migrations::Mode::kLive;
  const engine::CheckTarget check_target{job.manifest, job.spec(), job.database, mode};
  engine::RunTarget target{.job_label = job.id + " " + job.manifest.id + "/" + job.container,
                           .container = {job.database, job.container},
                           .partition_key_path = job.spec().partition_key_path,
                           .product_id = job.manifest.product_id,
                           .stop = job.manifest.stop,
                           .mode = mode,
                           .rewritten_name = std::string(job.rewritten_name())};
  engine::RunHooks hooks{
      .before_batch = [this, &entry]() { return gate(entry); },
      .after_batch =
          [this, &job](const engine::Progress& progress, const engine::BatchReport& batch) {
            job.progress = progress;
            job.last_checkpoint_at = clock_.system_now();
            persistence_.checkpoint_later(job);
            report_batch(metrics_, job, progress, batch, live(job).eta_seconds);
          },
      .interrupted = [this, &entry] { return interrupted(entry); }};

  engine::ContainerRunner runner(store_, **transform, target, job.knobs, clock_, hooks,
                                 job.progress, rt.governor.get());
  rt.runner = &runner;
  engine::RunOutcome outcome;
  try {
    outcome = co_await engine::run_with_checks(runner.store(), runner, check_target, job.checks);
  } catch (const std::exception& exception) {
    // A bug or an unexpected failure: the job fails with it instead of holding its slots.
    outcome = {engine::RunStatus::kFailed, std::string("internal error: ") + exception.what()};
  }
  rt.observed = runner.observed();
  job.progress = runner.progress();
  metrics_.set_inflight_writes(job_labels(job), 0);
  release();

  if (outcome.status == engine::RunStatus::kStopped && !rt.stop_requested) {
    // The daemon is shutting down, or a pause ended a wait for Cosmos: the job stays unfinished
    // and resumes from this checkpoint.
    set_state(job, job.pause_requested ? JobState::kPaused : JobState::kQueued);
    persist(job);
    spdlog::info("job {} checkpointed at batch {} for {}", job.id, job.progress.batches,
                 shutting_down_ ? "shutdown" : "a pause");
  } else if (outcome.status == engine::RunStatus::kSucceeded) {
    finish(job, JobState::kSucceeded, {});
  } else if (outcome.status == engine::RunStatus::kStopped) {
    finish(job, JobState::kStopped, "stopped by operator " + job.stopped_by);
  } else {
    finish(job, JobState::kFailed, outcome.reason);
  }
  if (options_.on_run_ended) options_.on_run_ended(job);
  schedule();
}

}  // namespace backfilld::jobs
