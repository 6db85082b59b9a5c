#pragma once
/// The job layer's facade: submit (through the live gate), pause/resume/stop, live knobs,
/// restore on start, shutdown; it runs each job the scheduler starts, with a checkpoint
/// (job_persistence) and metrics (job_metrics) after every batch. The API and both commands
/// (`serve`, `run`) drive jobs only through it. Single-threaded: call it from the io_context's
/// thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"
#include "daemon/cosmos/client.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/engine/clock.hpp"
#include "daemon/governor/governor.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/jobs/job_codec.hpp"
#include "daemon/jobs/job_persistence.hpp"
#include "daemon/jobs/live_gate.hpp"
#include "daemon/jobs/scheduler.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/state_store.hpp"

namespace backfilld::jobs {

struct ManagerOptions {
  std::size_t max_running_jobs = 2;
  std::size_t max_jobs_per_container = 1;
  bool require_dry_run = true;   ///< a live job needs a succeeded dry run of the same manifest
  std::string default_database;  ///< COSMOS_DATABASE
  std::string environment;       ///< BACKFILLD_ENVIRONMENT, for the release record
  std::string build_commit;
  engine::RunSettings default_knobs;
  governor::GovernorSettings governor = {};  ///< the daemon's budget, crawl, offer refresh
  /// Which queued jobs the scheduler may start (empty: every one); `backfilld run` admits only
  /// the job it runs now. Call schedule() when the answer changes.
  std::function<bool(const Job&)> admit = {};
  /// Called when a run of a job ends: finished, failed, stopped, or checkpointed for shutdown.
  std::function<void(const Job&)> on_run_ended = {};
};

struct SubmitRequest {
  migrations::Manifest manifest;
  bool dry_run = true;
  std::string operator_name;
  std::string backup_confirmed;
  std::string container;  ///< only this container of the manifest; empty: all
  std::optional<engine::RunSettings> knobs;
};

/// A PATCH: only the knobs that are set change, at the next batch.
using KnobPatch = engine::KnobPatch;

class JobManager {
 public:
  JobManager(net::any_io_executor executor,
             cosmos::DocumentStore& store,
             state::StateStore& state_store,
             metrics::Metrics& metrics,
             const engine::Clock& clock,
             KeyState keys,
             ManagerOptions options);
  ~JobManager();

  /// Loads every job from the state store: unfinished ones are queued again and resume from
  /// their checkpoint; paused ones stay paused. A record that cannot be read or decoded is set
  /// aside (StateStore::set_aside), logged as an error and listed as failed; the others run.
  /// Only the store itself failing (listing it, moving a record aside) is an error. Then starts
  /// what may run.
  common::Result<void> restore();

  /// Validates and queues one job per container. Error codes: invalid_request, conflict,
  /// live_gate (the message says which condition failed).
  common::Result<std::vector<std::string>> submit(SubmitRequest request);
  /// The checks of submit (request, conflict, live gate) without creating anything.
  common::Result<void> check(const SubmitRequest& request) const;
  /// Starts the queued jobs that may run now (submit, resume and a run's end call it too).
  void schedule();

  common::Result<void> pause(std::string_view id, std::string_view by);
  common::Result<void> resume(std::string_view id, std::string_view by);
  common::Result<void> stop(std::string_view id, std::string_view by);
  common::Result<void> patch(std::string_view id, const KnobPatch& patch, std::string_view by);

  const Job* find(std::string_view id) const;
  /// The jobs restore() set aside, in job id order.
  const std::vector<SetAsideJob>& set_aside_jobs() const { return set_aside_; }
  const SetAsideJob* find_set_aside(std::string_view id) const;
  /// Every job in submission order.
  std::vector<const Job*> list() const;
  /// What only the running daemon knows about a job: live counts, rate, ETA, waiting reason.
  JobLive live(const Job& job) const;
  /// Copies what changes inside a batch into the gauges (backfilld_inflight_writes of every
  /// running job); /metrics calls it before each scrape.
  void sample_metrics();

  /// SIGTERM: no new batches; in-flight writes finish and checkpoint; unfinished jobs stay
  /// resumable. Completes when every run has ended or `grace` has passed.
  net::awaitable<void> shutdown(std::chrono::milliseconds grace);
  /// The first half of shutdown, at once: no new batches, pacing and pauses end.
  void begin_shutdown();
  bool shutting_down() const { return shutting_down_; }

  /// Every Cosmos attempt (chained after the metrics observer): a recent 429 shows in the
  /// `waiting` text of running jobs.
  void observe_request(const cosmos::RequestEvent& event);

  /// The daemon's request-unit budget and throttle signals (raise and lift them here: every
  /// job is woken to see the change).
  governor::Governor& governor() { return governor_; }
  const governor::Governor& governor() const { return governor_; }

 private:
  /// A container of a request that passed the checks, with the dry run that cleared its gate.
  struct Accepted {
    const migrations::ContainerSpec* spec;
    std::string database;
    std::string dry_run_job;
  };
  common::Result<std::vector<Accepted>> accept(const SubmitRequest& request) const;
  /// One job's run (job_manager_run.cpp): transform, target, checks, runner, hooks.
  net::awaitable<void> run_job(std::string id);
  /// Before each batch: waits while paused; false when the job must stop.
  net::awaitable<bool> gate(ManagedJob& entry);
  net::awaitable<std::optional<std::uint64_t>> estimate_total(ManagedJob& entry);
  /// True while the job's waits must end: pause, stop, shutdown, a `pause` throttle signal.
  bool interrupted(const ManagedJob& entry) const;
  /// A throttle signal came or went: every job's waits recompute, held jobs look again.
  void throttle_changed();
  void persist(const Job& job) { persistence_.persist(job); }
  void set_state(Job& job, JobState state);
  void finish(Job& job, JobState state, std::string reason);
  std::string new_job_id();
  /// not_found, or conflict for a job set aside at start.
  common::Unexpected<common::Error> no_such_job(std::string_view id) const;
  common::Result<void> set_aside(const state::Record& record, const std::string& reason);

  net::any_io_executor executor_;
  cosmos::DocumentStore& store_;
  JobPersistence persistence_;
  metrics::Metrics& metrics_;
  const engine::Clock& clock_;
  KeyState keys_;
  ManagerOptions options_;
  governor::Governor governor_;
  Scheduler scheduler_;  ///< every job (record and run) and the running slots
  std::vector<SetAsideJob> set_aside_;
  std::uint64_t next_sequence_ = 1;
  bool shutting_down_ = false;
  std::chrono::steady_clock::time_point last_throttled_{};
  std::unique_ptr<common::Timer> all_stopped_;
};

}  // namespace backfilld::jobs
