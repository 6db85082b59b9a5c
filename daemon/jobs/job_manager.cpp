#include "daemon/jobs/job_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "daemon/common/json.hpp"
#include "daemon/common/time_format.hpp"
#include "migrations/transform.hpp"

namespace backfilld::jobs {
namespace {

constexpr auto kThrottleMemory = std::chrono::seconds(5);

bool same_target(const Job& job,
                 const std::string& database,
                 const std::string& container,
                 const migrations::Manifest& manifest) {
  return job.database == database && job.container == container && job.manifest == manifest;
}

}  // namespace

/// What exists only while the daemon runs: control flags, the runner, the resume signal.
struct JobManager::Runtime {
  explicit Runtime(net::any_io_executor executor)
      : resume(std::move(executor), net::steady_timer::time_point::max()) {}
  /// Ends the waits of the run (pacing, retries), so a pause, stop, knob or shutdown is seen now.
  void wake() {
    if (runner != nullptr) runner->wake();
    if (estimate_scope) estimate_scope->wake();
  }
  bool active = false;  ///< a run coroutine exists and holds the job's slots
  bool stop_requested = false;
  engine::ContainerRunner* runner = nullptr;
  /// The retries of the count before the run (the runner has its own).
  std::optional<cosmos::RetryScope> estimate_scope;
  net::steady_timer resume;
  std::optional<engine::Counts> observed;  ///< the last run's, including an unwritten batch
  std::chrono::steady_clock::time_point run_started{};
  std::uint64_t scanned_at_start = 0;
};

JobManager::JobManager(net::any_io_executor executor,
                       cosmos::DocumentStore& store,
                       state::StateStore& state_store,
                       metrics::Metrics& metrics,
                       const engine::Clock& clock,
                       KeyState keys,
                       ManagerOptions options)
    : executor_(std::move(executor)),
      store_(store),
      state_store_(state_store),
      checkpoints_(state_store),
      metrics_(metrics),
      clock_(clock),
      keys_(std::move(keys)),
      options_(std::move(options)) {}

JobManager::~JobManager() = default;

JobManager::Runtime& JobManager::runtime(const std::string& id) {
  auto& slot = runtimes_[id];
  if (!slot) slot = std::make_unique<Runtime>(executor_);
  return *slot;
}

Job* JobManager::find_mutable(std::string_view id) {
  const auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Job* JobManager::find(std::string_view id) const {
  const auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

std::vector<const Job*> JobManager::list() const {
  std::vector<const Job*> jobs;
  jobs.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) jobs.push_back(&job);
  std::sort(jobs.begin(), jobs.end(),
            [](const Job* a, const Job* b) { return a->sequence < b->sequence; });
  return jobs;
}

metrics::JobLabels JobManager::labels(const Job& job) const {
  return metrics::JobLabels{job.id, job.container, job.manifest.id};
}

void JobManager::persist(const Job& job) {
  checkpoints_.flush();  // a queued checkpoint must not land after this newer state
  if (auto saved = state_store_.save(job.id, to_state_json(job)); !saved) {
    spdlog::error("job {}: checkpoint not saved: {}", job.id, saved.error().message);
  }
}

void JobManager::set_state(Job& job, JobState state) {
  job.state = state;
  metrics_.set_job_state(labels(job), to_string(state));
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

common::Result<void> JobManager::restore() {
  auto records = state_store_.load_all();
  if (!records) return common::Unexpected{records.error()};
  for (const state::Record& record : *records) {
    auto job = from_state_json(record.json);
    if (!job) {
      return common::fail("invalid_state", "job " + record.job_id + ": " + job.error().message);
    }
    next_sequence_ = std::max(next_sequence_, job->sequence + 1);
    if (job->state == JobState::kPaused) job->pause_requested = true;
    if (job->state == JobState::kRunning) {
      // Resumes from its checkpoint when a slot is free, or waits if a pause was asked for.
      job->state = job->pause_requested ? JobState::kPaused : JobState::kQueued;
    }
    metrics_.set_job_state(labels(*job), to_string(job->state));
    spdlog::info("job {} ({}/{}) restored: {}, {} scanned, {} batches", job->id, job->manifest.id,
                 job->container, to_string(job->state), job->progress.counts.scanned,
                 job->progress.batches);
    const std::string id = job->id;
    jobs_.insert_or_assign(id, std::move(job.value()));
  }
  schedule();
  return {};
}

common::Result<void> JobManager::check_live_gate(const SubmitRequest& request,
                                                 const std::string& database,
                                                 const migrations::ContainerSpec& spec,
                                                 std::string& dry_run_job) const {
  const migrations::KindInfo* kind = migrations::find_kind_info(request.manifest.kind);
  if (kind != nullptr && kind->needs_keys) {
    if (!keys_.enabled) {
      return common::fail(
          "live_gate", "a live " + request.manifest.kind + " job needs FIELD_ENCRYPT_ENABLED=true");
    }
    if (!keys_.keyring) {
      return common::fail("live_gate", "encryption keys did not load: " + keys_.error);
    }
  }
  if (kind != nullptr && !kind->writes) return {};  // verify reads only: nothing to roll back
  if (request.backup_confirmed.empty()) {
    return common::fail("live_gate",
                        "backupConfirmed is required: name the backup or restore point this "
                        "live run can be rolled back to");
  }
  if (!options_.require_dry_run) return {};
  const Job* latest = nullptr;
  for (const auto& [id, job] : jobs_) {
    if (job.dry_run && job.state == JobState::kSucceeded &&
        same_target(job, database, spec.name, request.manifest) &&
        (latest == nullptr || job.sequence > latest->sequence)) {
      latest = &job;
    }
  }
  if (latest == nullptr) {
    return common::fail("live_gate", "no succeeded dry run of migration " + request.manifest.id +
                                         " on container " + spec.name + " (database " + database +
                                         "): run one first");
  }
  dry_run_job = latest->id;
  return {};
}

common::Result<std::vector<std::string>> JobManager::submit(SubmitRequest request) {
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
  std::vector<std::pair<const migrations::ContainerSpec*, std::string>> accepted;
  for (const migrations::ContainerSpec& spec : request.manifest.containers) {
    if (!request.container.empty() && spec.name != request.container) continue;
    for (const auto& [id, job] : jobs_) {
      if (!is_terminal(job.state) && job.dry_run == request.dry_run &&
          same_target(job, database, spec.name, request.manifest)) {
        return common::fail("conflict", "job " + id + " already " +
                                            std::string(to_string(job.state)) + " for " +
                                            request.manifest.id + "/" + spec.name);
      }
    }
    std::string dry_run_job;
    if (!request.dry_run) {
      if (auto gate = check_live_gate(request, database, spec, dry_run_job); !gate) {
        return common::Unexpected{gate.error()};
      }
    }
    accepted.emplace_back(&spec, std::move(dry_run_job));
  }

  std::vector<std::string> ids;
  for (auto& [spec, dry_run_job] : accepted) {
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
    job.progress.counts = engine::Counts(spec->fields.size());
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
    jobs_.emplace(job.id, std::move(job));
  }
  schedule();
  return ids;
}

void JobManager::schedule() {
  if (shutting_down_) return;
  for (const Job* candidate : list()) {
    if (running_ >= options_.max_running_jobs) return;
    if (candidate->state != JobState::kQueued) continue;
    Runtime& rt = runtime(candidate->id);
    if (rt.active || candidate->pause_requested) continue;
    const std::string key = slot_key(*candidate);
    if (running_per_container_[key] >= options_.max_jobs_per_container) continue;
    rt.active = true;
    ++running_;
    ++running_per_container_[key];
    net::co_spawn(
        executor_, run_job(candidate->id), [id = candidate->id](std::exception_ptr error) {
          if (!error) return;
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& exception) {
            spdlog::critical("job {}: run ended by an exception: {}", id, exception.what());
          }
        });
  }
}

net::awaitable<std::optional<std::uint64_t>> JobManager::estimate_total(const Job& job,
                                                                        Runtime& rt) {
  std::string parameters = "[]";
  if (job.manifest.product_id) {
    parameters = R"([{"name":"@productId","value":)";
    common::append_json(rapidjson::Value(rapidjson::StringRef(job.manifest.product_id->c_str())),
                        parameters);
    parameters += "}]";
  }
  const cosmos::ContainerRef container{job.database, job.container};
  const std::string where = job.manifest.product_id ? "c.productId = @productId" : "";
  // Throttled like any request of the job, and ended like them by a pause, stop or shutdown.
  rt.estimate_scope.emplace(
      [this, &job, &rt] { return job.pause_requested || rt.stop_requested || shutting_down_; });
  auto scoped = store_.with_retry_scope(*rt.estimate_scope);
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

net::awaitable<bool> JobManager::gate(Job& job, Runtime& rt) {
  while (job.pause_requested && !rt.stop_requested && !shutting_down_) {
    if (job.state != JobState::kPaused) {
      set_state(job, JobState::kPaused);
      persist(job);
      spdlog::info("job {} paused after batch {}", job.id, job.progress.batches);
    }
    rt.resume.expires_at(net::steady_timer::time_point::max());
    boost::system::error_code woken;
    co_await rt.resume.async_wait(net::redirect_error(net::use_awaitable, woken));
  }
  if (rt.stop_requested || shutting_down_) co_return false;
  if (job.state != JobState::kRunning) {
    set_state(job, JobState::kRunning);
    persist(job);
    spdlog::info("job {} running again", job.id);
  }
  co_return true;
}

net::awaitable<void> JobManager::run_job(std::string id) {
  Job& job = jobs_.at(id);
  Runtime& rt = runtime(id);
  const std::string key = slot_key(job);
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
  if (!job.estimated_total) job.estimated_total = co_await estimate_total(job, rt);

  auto release = [&] {
    rt.active = false;
    rt.runner = nullptr;
    --running_;
    --running_per_container_[key];
    if (shutting_down_ && running_ == 0 && all_stopped_) all_stopped_->cancel();
  };

  auto transform =
      migrations::make_transform(job.manifest, job.spec(), keys_.keyring.get(), crypto::random_iv,
                                 common::iso8601(clock_.system_now()));
  if (!transform) {
    release();
    finish(job, JobState::kFailed, "cannot build the transform: " + transform.error().message);
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
      .before_batch = [this, &job, &rt]() { return gate(job, rt); },
      .after_batch =
          [this, &job, &rt](const engine::Progress& progress, const engine::BatchReport& batch) {
            job.progress = progress;
            job.last_checkpoint_at = clock_.system_now();
            checkpoints_.save_later(job.id, to_state_json(job));
            const auto job_labels = labels(job);
            const engine::Counts& counts = batch.counts;
            metrics_.add_documents(job_labels, "scanned", counts.scanned);
            metrics_.add_documents(job_labels, "rewritten", counts.rewritten);
            metrics_.add_documents(job_labels, "skipped", counts.skipped);
            metrics_.add_documents(job_labels, "error", counts.errors);
            metrics_.add_documents(job_labels, "owner_mismatch", counts.owner_mismatch);
            metrics_.add_documents(job_labels, "missing_partition_key",
                                   counts.missing_partition_key);
            const auto& fields = job.spec().fields;
            for (std::size_t i = 0; i < fields.size() && i < counts.fields.size(); ++i) {
              metrics_.add_field_values(job_labels, fields[i], "rewritten",
                                        counts.fields[i].rewritten);
              metrics_.add_field_values(job_labels, fields[i], "skipped", counts.fields[i].skipped);
              metrics_.add_field_values(job_labels, fields[i], "error", counts.fields[i].errors);
              if (!job.left_name().empty()) {
                metrics_.add_field_values(job_labels, fields[i], std::string(job.left_name()),
                                          counts.fields[i].left);
              }
            }
            metrics_.observe_batch(job_labels, batch.elapsed);
            metrics_.add_conflicts(job_labels, batch.conflicts);
            const JobLive now = live(job);
            const double ratio = job.estimated_total && *job.estimated_total > 0
                                     ? std::min(1.0, static_cast<double>(progress.counts.scanned) /
                                                         static_cast<double>(*job.estimated_total))
                                     : (progress.finished ? 1.0 : 0.0);
            metrics_.set_progress(job_labels, progress.finished ? 1.0 : ratio,
                                  progress.finished ? 0.0 : now.eta_seconds.value_or(-1.0));
            (void)rt;
          },
      .interrupted = [this, &job,
                      &rt] { return job.pause_requested || rt.stop_requested || shutting_down_; }};

  engine::ContainerRunner runner(store_, **transform, target, job.knobs, clock_, hooks,
                                 job.progress);
  rt.runner = &runner;
  const engine::RunOutcome outcome =
      co_await engine::run_with_checks(runner.store(), runner, check_target, job.checks);
  rt.observed = runner.observed();
  job.progress = runner.progress();
  metrics_.set_inflight_writes(labels(job), 0);
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
  schedule();
}

common::Result<void> JobManager::pause(std::string_view id, std::string_view by) {
  Job* job = find_mutable(id);
  if (job == nullptr) return common::fail("not_found", "no job " + std::string(id));
  if (is_terminal(job->state)) {
    return common::fail("conflict", "job " + job->id + " is " + std::string(to_string(job->state)));
  }
  Runtime& rt = runtime(job->id);
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
  Job* job = find_mutable(id);
  if (job == nullptr) return common::fail("not_found", "no job " + std::string(id));
  Runtime& rt = runtime(job->id);
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
  Job* job = find_mutable(id);
  if (job == nullptr) return common::fail("not_found", "no job " + std::string(id));
  if (is_terminal(job->state)) {
    return common::fail("conflict",
                        "job " + job->id + " is already " + std::string(to_string(job->state)));
  }
  Runtime& rt = runtime(job->id);
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
  Job* job = find_mutable(id);
  if (job == nullptr) return common::fail("not_found", "no job " + std::string(id));
  if (is_terminal(job->state)) {
    return common::fail("conflict", "job " + job->id + " is " + std::string(to_string(job->state)));
  }
  if (patch.batch_size && (*patch.batch_size < 1 || *patch.batch_size > 1000)) {
    return common::fail("invalid_request", "batchSize: must be an integer from 1 to 1000");
  }
  if (patch.write_concurrency && (*patch.write_concurrency < 1 || *patch.write_concurrency > 256)) {
    return common::fail("invalid_request", "writeConcurrency: must be an integer from 1 to 256");
  }
  if (patch.max_documents_per_second && *patch.max_documents_per_second < 0) {
    return common::fail("invalid_request", "maxDocumentsPerSecond: must be 0 (no limit) or more");
  }
  if (patch.max_request_units_per_second && *patch.max_request_units_per_second < 0) {
    return common::fail("invalid_request",
                        "maxRequestUnitsPerSecond: must be 0 (no limit) or more");
  }
  if (patch.batch_size) job->knobs.batch_size = *patch.batch_size;
  if (patch.write_concurrency) job->knobs.write_concurrency = *patch.write_concurrency;
  if (patch.max_documents_per_second) {
    job->knobs.max_documents_per_second = *patch.max_documents_per_second;
  }
  if (patch.max_request_units_per_second) {
    job->knobs.max_request_units_per_second = *patch.max_request_units_per_second;
  }
  if (patch.write_mode) job->knobs.write_mode = *patch.write_mode;
  persist(*job);
  Runtime& rt = runtime(job->id);
  rt.wake();  // a pacing wait recomputes with the new limits
  spdlog::info(
      "job {}: knobs changed by {}: batchSize={} writeConcurrency={} "
      "maxDocumentsPerSecond={} maxRequestUnitsPerSecond={} writeMode={}",
      job->id, by, job->knobs.batch_size, job->knobs.write_concurrency,
      job->knobs.max_documents_per_second, job->knobs.max_request_units_per_second,
      engine::to_string(job->knobs.write_mode));
  return {};
}

void JobManager::sample_metrics() {
  for (const auto& [id, rt] : runtimes_) {
    const Job* job = rt->runner != nullptr ? find(id) : nullptr;
    if (job != nullptr) {
      metrics_.set_inflight_writes(labels(*job),
                                   static_cast<std::int64_t>(rt->runner->inflight_writes()));
    }
  }
}

JobLive JobManager::live(const Job& job) const {
  JobLive live;
  const auto it = runtimes_.find(job.id);
  const Runtime* rt = it == runtimes_.end() ? nullptr : it->second.get();
  if (rt != nullptr && rt->runner != nullptr) {
    live.observed = rt->runner->observed();
    live.inflight_writes = rt->runner->inflight_writes();
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
  } else {
    live.observed = job.progress.counts;
  }
  live.pause_requested = job.pause_requested;
  if (rt != nullptr) live.stop_requested = rt->stop_requested;

  if (is_terminal(job.state)) return live;
  if (shutting_down_) {
    live.waiting = "the daemon is shutting down";
  } else if (live.stop_requested) {
    live.waiting = "stopping after the batch in flight";
  } else if (job.state == JobState::kPaused) {
    live.waiting = "paused by an operator";
  } else if (live.pause_requested) {
    live.waiting = "pausing after the batch in flight";
  } else if (job.state == JobState::kQueued) {
    const auto busy = running_per_container_.find(slot_key(job));
    if (running_ >= options_.max_running_jobs) {
      live.waiting =
          fmt::format("queued: {} jobs running (limit {})", running_, options_.max_running_jobs);
    } else if (busy != running_per_container_.end() &&
               busy->second >= options_.max_jobs_per_container) {
      live.waiting = "queued: another job is running on container " + job.container;
    } else {
      live.waiting = "queued";
    }
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

void JobManager::begin_shutdown() {
  shutting_down_ = true;
  for (auto& [id, rt] : runtimes_) {
    rt->wake();
    rt->resume.cancel();
  }
}

net::awaitable<void> JobManager::shutdown(std::chrono::milliseconds grace) {
  begin_shutdown();
  if (running_ == 0) co_return;
  spdlog::info("shutdown: waiting up to {} ms for {} running jobs to checkpoint", grace.count(),
               running_);
  all_stopped_ = std::make_unique<net::steady_timer>(executor_, grace);
  boost::system::error_code ended;
  co_await all_stopped_->async_wait(net::redirect_error(net::use_awaitable, ended));
  if (running_ > 0) {
    spdlog::warn(
        "shutdown: grace period over with {} jobs still writing; they resume from their "
        "last checkpoint",
        running_);
  }
}

}  // namespace backfilld::jobs
