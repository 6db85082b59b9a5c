#pragma once
/// The queue of jobs and the scheduler that runs them: a global limit of running jobs, a limit
/// per container (two jobs never write one container at once), submission order, the live
/// gate, pause/resume/stop, live knobs, a checkpoint after every batch, and restore on start.
/// Single-threaded: call it from the io_context's thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"
#include "daemon/cosmos/client.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/crypto/keyring.hpp"
#include "daemon/engine/clock.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/jobs/job_codec.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/state_store.hpp"
#include "daemon/state/write_behind.hpp"

namespace backfilld::jobs {

struct ManagerOptions {
  std::size_t max_running_jobs = 2;
  std::size_t max_jobs_per_container = 1;
  bool require_dry_run = true;   ///< a live job needs a succeeded dry run of the same manifest
  std::string default_database;  ///< COSMOS_DATABASE
  std::string environment;       ///< BACKFILLD_ENVIRONMENT, for the release record
  std::string build_commit;
  engine::RunSettings default_knobs;
};

/// The keys a live encryption job needs; `error` says why they are unusable when they are.
struct KeyState {
  std::unique_ptr<crypto::Keyring> keyring;
  bool enabled = false;  ///< FIELD_ENCRYPT_ENABLED=true
  std::string error;     ///< from loading the keyring, if it failed
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
struct KnobPatch {
  std::optional<std::uint32_t> batch_size = {};
  std::optional<std::uint32_t> write_concurrency = {};
  std::optional<double> max_documents_per_second = {};
  std::optional<double> max_request_units_per_second = {};
  std::optional<engine::WriteMode> write_mode = {};
};

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
  /// their checkpoint; paused ones stay paused. Then starts what may run.
  common::Result<void> restore();

  /// Validates and queues one job per container. Error codes: invalid_request, conflict,
  /// live_gate (the message says which condition failed).
  common::Result<std::vector<std::string>> submit(SubmitRequest request);

  common::Result<void> pause(std::string_view id, std::string_view by);
  common::Result<void> resume(std::string_view id, std::string_view by);
  common::Result<void> stop(std::string_view id, std::string_view by);
  common::Result<void> patch(std::string_view id, const KnobPatch& patch, std::string_view by);

  const Job* find(std::string_view id) const;
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

 private:
  struct Runtime;

  net::awaitable<void> run_job(std::string id);
  /// Before each batch: waits while paused; false when the job must stop.
  net::awaitable<bool> gate(Job& job, Runtime& rt);
  net::awaitable<std::optional<std::uint64_t>> estimate_total(const Job& job, Runtime& rt);
  void schedule();
  void persist(const Job& job);
  void set_state(Job& job, JobState state);
  void finish(Job& job, JobState state, std::string reason);
  Job* find_mutable(std::string_view id);
  Runtime& runtime(const std::string& id);
  std::string slot_key(const Job& job) const { return job.database + "/" + job.container; }
  metrics::JobLabels labels(const Job& job) const;
  common::Result<void> check_live_gate(const SubmitRequest& request,
                                       const std::string& database,
                                       const migrations::ContainerSpec& spec,
                                       std::string& dry_run_job) const;
  std::string new_job_id();

  net::any_io_executor executor_;
  cosmos::DocumentStore& store_;
  state::StateStore& state_store_;
  state::WriteBehind checkpoints_;  ///< batch checkpoints, saved off the io thread
  metrics::Metrics& metrics_;
  const engine::Clock& clock_;
  KeyState keys_;
  ManagerOptions options_;
  std::map<std::string, Job, std::less<>> jobs_;
  std::map<std::string, std::unique_ptr<Runtime>, std::less<>> runtimes_;
  std::map<std::string, std::size_t> running_per_container_;
  std::size_t running_ = 0;
  std::uint64_t next_sequence_ = 1;
  bool shutting_down_ = false;
  std::chrono::steady_clock::time_point last_throttled_{};
  std::unique_ptr<net::steady_timer> all_stopped_;
};

}  // namespace backfilld::jobs
