#pragma once
/// `backfilld serve`: the long-running daemon. A queue of jobs driven over the HTTP control
/// plane, checkpoints in the state directory, metrics on /metrics, a graceful SIGTERM.
#include <chrono>
#include <cstddef>
#include <string>

#include "daemon/common/env.hpp"
#include "daemon/engine/run_settings.hpp"
#include "daemon/governor/throttle_watcher.hpp"

namespace backfilld::cli {

struct ServeCommandOptions {
  std::string listen;        ///< BACKFILLD_LISTEN, default 127.0.0.1:8080
  std::string state_dir;     ///< BACKFILLD_STATE_DIR (required)
  std::string manifest_dir;  ///< BACKFILLD_MANIFEST_DIR: where manifestPath resolves
  std::string environment;   ///< BACKFILLD_ENVIRONMENT, for the release record
  std::size_t max_running_jobs = 2;
  std::size_t max_jobs_per_container = 1;
  bool require_dry_run = true;
  std::chrono::seconds grace_period{25};
  std::uint32_t write_concurrency = 16;
  std::uint32_t range_concurrency = 4;
  engine::WriteMode write_mode = engine::WriteMode::kAuto;  ///< jobs' default
  bool insecure_skip_tls_verify = false;
  double total_request_units_per_second = 0;  ///< the daemon's budget, all jobs (0: none)
  governor::ThrottleWatchSettings throttle;   ///< flag file, Prometheus query
};

/// Runs until SIGTERM/SIGINT; returns the process exit code (0 after a clean shutdown, 2 when
/// the configuration is unusable).
int serve_command(ServeCommandOptions options, const common::EnvLookup& env);

}  // namespace backfilld::cli
