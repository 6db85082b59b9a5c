#pragma once
/// A job: one container of a submitted manifest, with its state, knobs and checkpoint.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/run_checks.hpp"
#include "migrations/manifest.hpp"

namespace backfilld::jobs {

/// queued -> running <-> paused -> succeeded | failed | stopped
enum class JobState { kQueued, kRunning, kPaused, kSucceeded, kFailed, kStopped };

std::string_view to_string(JobState state);
std::optional<JobState> parse_job_state(std::string_view text);
bool is_terminal(JobState state);

using TimePoint = std::chrono::system_clock::time_point;

/// What the job layer needs to know of a migration kind; the one place that asks migrations/.
struct KindFacts {
  std::string_view rewritten_name = "rewritten";  ///< counts' name for rewritten values
  std::string_view left_name = {};                ///< counts' name for values left as they are
  bool needs_keys = false;                        ///< a live run (and any verify run) needs keys
  bool writes = true;                             ///< false: never writes (verify)
};
/// The facts of the kind named `kind`; an unknown kind gets the defaults.
KindFacts kind_facts(std::string_view kind);

struct Job {
  std::string id;
  std::uint64_t sequence = 0;  ///< submission order, kept across restarts
  migrations::Manifest manifest;
  std::string container;
  std::string database;
  bool dry_run = true;
  std::string operator_name;     ///< who submitted it
  std::string backup_confirmed;  ///< the attested backup or restore point (live runs)
  std::string dry_run_job;       ///< live runs: the succeeded dry run that cleared the gate

  JobState state = JobState::kQueued;
  bool pause_requested = false;  ///< pauses at the next batch boundary; survives restarts
  std::string reason;            ///< why failed or stopped
  engine::RunSettings knobs;
  engine::Progress progress;                     ///< as of the last checkpoint
  std::optional<std::uint64_t> estimated_total;  ///< from a count query at start
  engine::CheckReport checks;  ///< the kind's checks before and after the run (run_checks.hpp)

  TimePoint submitted_at{};
  TimePoint started_at{};
  TimePoint finished_at{};
  TimePoint last_checkpoint_at{};
  std::string stopped_by;  ///< operator who stopped it

  // For the release record (plan step 8).
  std::string key_provider;
  std::string key_id;
  std::string build_commit;
  std::string environment;

  /// The container's spec in the manifest (always present for a valid job).
  const migrations::ContainerSpec& spec() const { return *manifest.find_container(container); }
  /// The kind's name for rewritten counts: "encrypted", "copied", "verified", "rewritten"...
  std::string_view rewritten_name() const;
  /// The kind's name for values left as they are ("plaintext", "unknown"), or "".
  std::string_view left_name() const;
  /// The fields the kind counts separately, in order (none for an unknown kind).
  std::vector<std::string> counted_fields() const;
};

/// A job whose state file could not be read or decoded at start: its file was moved aside and
/// it shows as failed, so the daemon runs every other job.
struct SetAsideJob {
  std::string id;          ///< from the file's name
  std::string reason;      ///< why the file could not be loaded
  std::string state_file;  ///< where the file went
};

}  // namespace backfilld::jobs
