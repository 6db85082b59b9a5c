#pragma once
/// `backfilld run`: one manifest to completion, one container at a time in manifest order, for
/// Kubernetes Jobs and operators. The exit code tells the result.
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
  engine::WriteMode write_mode = engine::WriteMode::kAuto;
  bool insecure_skip_tls_verify = false;
};

/// Exit codes of `backfilld run`.
enum ExitCode : int {
  kExitSucceeded = 0,
  kExitFailed = 1,   ///< a container failed: stop criterion or fatal error
  kExitUsage = 2,    ///< bad arguments, manifest or configuration: nothing was run
  kExitStopped = 3,  ///< SIGTERM/SIGINT: stopped after the current batch
};

/// Runs the manifest and prints a JSON summary on stdout; progress goes to the log.
int run_command(const RunCommandOptions& options, const common::EnvLookup& env);

}  // namespace backfilld::cli
