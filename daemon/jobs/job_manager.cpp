#include "daemon/jobs/job_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "daemon/jobs/job_metrics.hpp"
#include "daemon/jobs/job_state.hpp"

namespace backfilld::jobs {

JobManager::JobManager(net::any_io_executor executor,
                       cosmos::DocumentStore& store,
                       state::StateStore& state_store,
                       metrics::Metrics& metrics,
                       const engine::Clock& clock,
                       KeyState keys,
                       ManagerOptions options)
    : executor_(std::move(executor)),
      store_(store),
      persistence_(state_store),
      metrics_(metrics),
      clock_(clock),
      keys_(std::move(keys)),
      options_(std::move(options)),
      governor_(options_.governor, clock),
      scheduler_(executor_,
                 SchedulerLimits{options_.max_running_jobs, options_.max_jobs_per_container}) {
  governor_.set_on_change([this] { throttle_changed(); });
}

JobManager::~JobManager() = default;

const Job* JobManager::find(std::string_view id) const {
  const ManagedJob* entry = scheduler_.find(id);
  return entry == nullptr ? nullptr : &entry->job;
}

std::vector<const Job*> JobManager::list() const { return scheduler_.list(); }

void JobManager::set_state(Job& job, JobState state) {
  transition(job, state);
  metrics_.set_job_state(job_labels(job), to_string(state));
}

void JobManager::finish(Job& job, JobState state, std::string reason) {
  set_state(job, state);
  job.reason = std::move(reason);
  job.finished_at = clock_.system_now();
  persist(job);
  if (state == JobState::kSucceeded) {
    spdlog::info("job {} ({}/{}) succeeded: scanned {}", job.id, job.manifest.id, job.container,
                 job.progress.counts.scanned);
  } else {
    spdlog::warn("job {} ({}/{}) {}: {}", job.id, job.manifest.id, job.container, to_string(state),
                 job.reason);
  }
}

std::string JobManager::new_job_id() {
  static std::mt19937 random{std::random_device{}()};
  return fmt::format("job-{:06}-{:04x}", next_sequence_, random() & 0xFFFF);
}

const SetAsideJob* JobManager::find_set_aside(std::string_view id) const {
  const auto it = std::find_if(set_aside_.begin(), set_aside_.end(),
                               [&](const SetAsideJob& job) { return job.id == id; });
  return it == set_aside_.end() ? nullptr : &*it;
}

common::Unexpected<common::Error> JobManager::no_such_job(std::string_view id) const {
  if (const SetAsideJob* aside = find_set_aside(id)) {
    return common::fail("conflict", "job " + aside->id + " is failed: " + aside->reason +
                                        "; its state file is now " + aside->state_file);
  }
  return common::fail("not_found", "no job " + std::string(id));
}

common::Result<void> JobManager::set_aside(const state::Record& record, const std::string& reason) {
  auto moved = persistence_.set_aside(record.job_id);
  if (!moved) {
    return common::fail("state_io", "job " + record.job_id + ": state file cannot be loaded (" +
                                        reason + ") nor set aside: " + moved.error().message);
  }
  spdlog::error(
      "job {}: state file {}.json cannot be loaded: {}; moved to {}; the job is listed as failed "
      "and every other job runs",
      record.job_id, record.job_id, reason, *moved);
  set_aside_.push_back(
      SetAsideJob{record.job_id, "state file cannot be loaded: " + reason, std::move(*moved)});
  metrics_.set_job_state(metrics::JobLabels{record.job_id, "", ""}, to_string(JobState::kFailed));
  // A new job must not take its number: ids are "job-<sequence>-<random>".
  const std::string_view id = record.job_id;
  std::uint64_t sequence = 0;
  if (id.starts_with("job-") &&
      std::from_chars(id.data() + 4, id.data() + id.size(), sequence).ec == std::errc()) {
    next_sequence_ = std::max(next_sequence_, sequence + 1);
  }
  return {};
}

common::Result<void> JobManager::restore() {
  auto records = persistence_.load_all();
  if (!records) return common::Unexpected{records.error()};
  for (const state::Record& record : *records) {
    auto job = record.unreadable.empty() ? from_state_json(record.json)
                                         : common::fail("invalid_state", record.unreadable);
    if (job && job->id != record.job_id) {
      job = common::fail("invalid_state", "id: \"" + job->id + "\" is not the file's job id");
    }
    if (!job) {
      if (auto kept = set_aside(record, job.error().message); !kept) return kept;
      continue;
    }
    next_sequence_ = std::max(next_sequence_, job->sequence + 1);
    if (job->state == JobState::kPaused) job->pause_requested = true;
    if (job->state == JobState::kRunning) {
      // Resumes from its checkpoint when a slot is free, or waits if a pause was asked for.
      transition(*job, job->pause_requested ? JobState::kPaused : JobState::kQueued);
    }
    metrics_.set_job_state(job_labels(*job), to_string(job->state));
    spdlog::info("job {} ({}/{}) restored: {}, {} scanned, {} batches", job->id, job->manifest.id,
                 job->container, to_string(job->state), job->progress.counts.scanned,
                 job->progress.batches);
    scheduler_.add(std::move(job.value()));
  }
  schedule();
  return {};
}

common::Result<std::vector<JobManager::Accepted>> JobManager::accept(
    const SubmitRequest& request) const {
  if (shutting_down_) return common::fail("unavailable", "the daemon is shutting down");
  if (request.operator_name.empty()) {
    return common::fail("invalid_request", "operator: required, names who runs this migration");
  }
  const std::string database =
      request.manifest.database.empty() ? options_.default_database : request.manifest.database;
  if (database.empty()) {
    return common::fail("invalid_request",
                        "no database: the manifest has none and COSMOS_DATABASE is not set");
  }
  if (!request.container.empty() && request.manifest.find_container(request.container) == nullptr) {
    return common::fail("invalid_request", "container: \"" + request.container +
                                               "\" is not in manifest " + request.manifest.id);
  }

  // All or nothing: every container passes the checks before any job is created.
  std::vector<Accepted> accepted;
  for (const migrations::ContainerSpec& spec : request.manifest.containers) {
    if (!request.container.empty() && spec.name != request.container) continue;
    for (const Job* job : list()) {
      if (!is_terminal(job->state) && job->dry_run == request.dry_run &&
          same_target(*job, database, spec.name, request.manifest)) {
        return common::fail("conflict", "job " + job->id + " already " +
                                            std::string(to_string(job->state)) + " for " +
                                            request.manifest.id + "/" + spec.name);
      }
    }
    std::string dry_run_job;
    if (!request.dry_run) {
      const LiveGateRequest gate_request{request.manifest, database, spec, request.backup_confirmed,
                                         options_.require_dry_run};
      if (auto gate = check_live_gate(gate_request, keys_, list(), dry_run_job); !gate) {
        return common::Unexpected{gate.error()};
      }
    }
    accepted.push_back(Accepted{&spec, database, std::move(dry_run_job)});
  }
  return accepted;
}

common::Result<void> JobManager::check(const SubmitRequest& request) const {
  auto accepted = accept(request);
  if (!accepted) return common::Unexpected{accepted.error()};
  return {};
}

common::Result<std::vector<std::string>> JobManager::submit(SubmitRequest request) {
  auto accepted = accept(request);
  if (!accepted) return common::Unexpected{accepted.error()};
  std::vector<std::string> ids;
  for (auto& [spec, database, dry_run_job] : *accepted) {
    Job job;
    job.id = new_job_id();
    job.sequence = next_sequence_++;
    job.manifest = request.manifest;
    job.container = spec->name;
    job.database = database;
    job.dry_run = request.dry_run;
    job.operator_name = request.operator_name;
    job.backup_confirmed = request.backup_confirmed;
    job.dry_run_job = std::move(dry_run_job);
    job.knobs = request.knobs.value_or(options_.default_knobs);
    if (!request.knobs) job.knobs.batch_size = request.manifest.batch_size;
    job.progress.counts = engine::Counts(job.counted_fields().size());
    job.submitted_at = clock_.system_now();
    job.environment = options_.environment;
    job.build_commit = options_.build_commit;
    if (keys_.keyring) {
      job.key_provider = keys_.keyring->provider();
      job.key_id = keys_.keyring->primary_kid();
    }
    set_state(job, JobState::kQueued);
    persist(job);
    spdlog::info("job {} queued: {} {} of {}/{} by {}", job.id,
                 job.dry_run ? "dry run" : "live run", job.manifest.kind, job.manifest.id,
                 job.container, job.operator_name);
    ids.push_back(job.id);
    scheduler_.add(std::move(job));
  }
  schedule();
  return ids;
}

void JobManager::schedule() {
  if (shutting_down_) return;
  scheduler_.schedule(options_.admit, [this](ManagedJob& entry) {
    net::co_spawn(executor_, run_job(entry.job.id), [id = entry.job.id](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& exception) {
        spdlog::critical("job {}: run ended by an exception: {}", id, exception.what());
      }
    });
  });
}

void JobManager::begin_shutdown() {
  shutting_down_ = true;
  for (ManagedJob* entry : scheduler_.in_order()) {
    entry->run.wake();
    entry->run.resume.cancel();
  }
}

net::awaitable<void> JobManager::shutdown(std::chrono::milliseconds grace) {
  begin_shutdown();
  if (scheduler_.running() == 0) co_return;
  spdlog::info("shutdown: waiting up to {} ms for {} running jobs to checkpoint", grace.count(),
               scheduler_.running());
  all_stopped_ = clock_.make_timer(executor_);
  const auto deadline = clock_.monotonic_now() + grace;
  co_await all_stopped_->wait_until(deadline);
  if (scheduler_.running() > 0) {
    spdlog::warn(
        "shutdown: grace period over with {} jobs still writing; they resume from their "
        "last checkpoint",
        scheduler_.running());
  }
}

}  // namespace backfilld::jobs
