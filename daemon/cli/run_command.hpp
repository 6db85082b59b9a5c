#pragma once
/// `backfilld run`: one manifest to completion, one container at a time in manifest order, for
/// Kubernetes Jobs and operators. It is the job layer of `serve` (JobManager) with one job at a
/// time and no control plane: the same live gate, checkpoints in a state directory, and a rerun
/// after a crash or SIGTERM continues each unfinished job from its checkpoint. The exit code
/// tells the result.
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/common/env.hpp"
#include "daemon/engine/run_settings.hpp"

namespace backfilld::cli {

struct RunCommandOptions {
  std::string manifest_path;
  std::string container;  ///< only this container; empty: all
  bool dry_run = false;
  std::optional<std::uint32_t> batch_size;  ///< overrides the manifest's
  std::uint32_t write_concurrency = 16;
  std::uint32_t range_concurrency = 4;
  engine::WriteMode write_mode = engine::WriteMode::kAuto;
  double max_documents_per_second = 0;      ///< 0: no limit
  double max_request_units_per_second = 0;  ///< 0: no limit
  std::string state_dir;         ///< empty: BACKFILLD_STATE_DIR, else default_state_dir()
  std::string backup_confirmed;  ///< the backup or restore point a live run can roll back to
  bool require_dry_run = true;   ///< false: --allow-live-without-dry-run
  std::string operator_name;     ///< empty: $USER, else "cli"
  std::string environment;       ///< empty: BACKFILLD_ENVIRONMENT
  bool insecure_skip_tls_verify = false;
};

/// Exit codes of `backfilld run`.
enum ExitCode : int {
  kExitSucceeded = 0,
  kExitFailed = 1,   ///< a container failed: stop criterion or fatal error
  kExitUsage = 2,    ///< bad arguments, manifest, configuration or live gate: nothing was run
  kExitStopped = 3,  ///< SIGTERM/SIGINT: stopped after the current batch, resumable
};

/// The state directory when neither --state-dir nor BACKFILLD_STATE_DIR names one:
/// /var/lib/backfilld/run when /var/lib/backfilld is writable, else
/// ${XDG_STATE_HOME:-$HOME/.local/state}/backfilld/run; empty when there is no HOME either.
std::string default_state_dir(const common::EnvLookup& env);

/// Runs the manifest and prints a JSON summary on stdout; progress goes to the log.
int run_command(const RunCommandOptions& options, const common::EnvLookup& env);

}  // namespace backfilld::cli
