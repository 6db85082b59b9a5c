#include "daemon/cli/run_command.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>

#include "daemon/cli/run_summary.hpp"
#include "daemon/common/asio.hpp"
#include "daemon/config/cosmos_settings.hpp"
#include "daemon/crypto/keyring.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/state_store.hpp"
#include "migrations/kind.hpp"
#include "migrations/manifest.hpp"

namespace backfilld::cli {
namespace {

// As serve's: long enough for the batch in flight to finish and checkpoint.
constexpr std::chrono::seconds kShutdownGrace{25};

/// Keys for this run: required and checked for a live run of a kind that needs them (and for
/// verify); loaded if configured otherwise.
common::Result<jobs::KeyState> keys_for(const RunCommandOptions& options,
                                        const jobs::KindFacts& kind,
                                        const std::string& kind_name,
                                        const common::EnvLookup& env) {
  jobs::KeyState keys;
  keys.enabled = crypto::encryption_enabled(env);
  if (kind.needs_keys && (!options.dry_run || !kind.writes)) {
    if (!keys.enabled) {
      return common::fail("config", std::string(kind.writes ? "a live " : "a ") + kind_name +
                                        " run needs FIELD_ENCRYPT_ENABLED=true");
    }
  } else if (!env("FIELD_ENCRYPT_KEY_PROVIDER")) {
    keys.error = "FIELD_ENCRYPT_KEY_PROVIDER is not set";
    return keys;
  }
  auto keyring = crypto::load_keyring(env);
  if (!keyring) return common::Unexpected{keyring.error()};
  keys.keyring = std::move(keyring.value());
  return keys;
}

/// The latest job of `manifest` on `container` run with the same dry-run flag, or nullptr.
const jobs::Job* latest_job(const jobs::JobManager& manager,
                            const migrations::Manifest& manifest,
                            const std::string& database,
                            const std::string& container,
                            bool dry_run) {
  const jobs::Job* latest = nullptr;
  for (const jobs::Job* job : manager.list()) {
    if (job->dry_run == dry_run && jobs::same_target(*job, database, container, manifest)) {
      latest = job;  // list() is in submission order
    }
  }
  return latest;
}

}  // namespace

std::string default_state_dir(const common::EnvLookup& env) {
  const std::filesystem::path system_dir = "/var/lib/backfilld";
  if (std::filesystem::is_directory(system_dir) && ::access(system_dir.c_str(), W_OK) == 0) {
    return (system_dir / "run").string();
  }
  if (auto xdg = env("XDG_STATE_HOME"); xdg && !xdg->empty()) {
    return (std::filesystem::path(*xdg) / "backfilld" / "run").string();
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    return (std::filesystem::path(*home) / ".local" / "state" / "backfilld" / "run").string();
  }
  return {};
}

int run_command(const RunCommandOptions& options, const common::EnvLookup& env) {
  std::string state_dir = options.state_dir;
  if (state_dir.empty()) state_dir = env("BACKFILLD_STATE_DIR").value_or("");
  if (state_dir.empty()) state_dir = default_state_dir(env);
  if (state_dir.empty()) {
    spdlog::error("no state directory: set --state-dir or BACKFILLD_STATE_DIR (no HOME either)");
    return kExitUsage;
  }
  spdlog::info("backfilld run: checkpoints and job state in {}", state_dir);

  auto manifest = migrations::load_manifest_file(options.manifest_path);
  if (!manifest) {
    spdlog::error("{}", manifest.error().message);
    return kExitUsage;
  }
  if (!options.container.empty() && manifest->find_container(options.container) == nullptr) {
    spdlog::error("--container {}: not in manifest {}", options.container, manifest->id);
    return kExitUsage;
  }
  auto settings = config::cosmos_settings_from_env(env, options.insecure_skip_tls_verify);
  if (!settings) {
    spdlog::error("{}", settings.error().message);
    return kExitUsage;
  }
  auto database = config::database_for(manifest->database, *settings);
  if (!database) {
    spdlog::error("{}", database.error().message);
    return kExitUsage;
  }
  const jobs::KindFacts kind = jobs::kind_facts(manifest->kind);
  auto keys = keys_for(options, kind, manifest->kind, env);
  if (!keys) {
    spdlog::error("{}", keys.error().message);
    return kExitUsage;
  }
  if (keys->keyring) {
    spdlog::info("keys from provider {}: primary kid {}", keys->keyring->provider(),
                 keys->keyring->primary_kid());
  } else if (kind.needs_keys) {
    spdlog::info("dry run without keys: documents are classified, nothing is encrypted");
  }
  auto state_store = state::FileStateStore::open(state_dir);
  if (!state_store) {
    spdlog::error("{}", state_store.error().message);
    return kExitUsage;
  }

  net::io_context io;
  auto client = cosmos::Client::create(io.get_executor(), settings->client);
  if (!client) {
    spdlog::error("{}", client.error().message);
    return kExitUsage;
  }
  engine::SystemClock clock;
  metrics::Metrics metrics;  // the job layer reports into it; `run` serves no /metrics
  const engine::RunSettings knobs{
      .batch_size = options.batch_size.value_or(manifest->batch_size),
      .write_concurrency = options.write_concurrency,
      .range_concurrency = options.range_concurrency,
      .max_documents_per_second = options.max_documents_per_second,
      .max_request_units_per_second = options.max_request_units_per_second,
      .write_mode = options.write_mode};
  std::string admitted;  // the one job the scheduler may start
  net::steady_timer run_ended(io, net::steady_timer::time_point::max());
  jobs::JobManager manager(
      io.get_executor(), **client, **state_store, metrics, clock, std::move(keys.value()),
      jobs::ManagerOptions{
          .max_running_jobs = 1,
          .max_jobs_per_container = 1,
          .require_dry_run = options.require_dry_run,
          .default_database = *database,
          .environment = options.environment,
          .build_commit = BACKFILLD_COMMIT,
          .default_knobs = knobs,
          .admit = [&admitted](const jobs::Job& job) { return job.id == admitted; },
          .on_run_ended = [&run_ended](const jobs::Job&) { run_ended.cancel(); }});
  (*client)->set_observer(
      [&manager, record = metrics.request_observer()](const cosmos::RequestEvent& event) {
        record(event);
        manager.observe_request(event);
      });
  if (auto restored = manager.restore(); !restored) {
    spdlog::error("cannot restore jobs from {}: {}", state_dir, restored.error().message);
    return kExitUsage;
  }

  // The plan, in manifest order: continue the unfinished jobs of an interrupted run of the same
  // command (and leave its finished ones), else one new job per container.
  std::vector<const migrations::ContainerSpec*> specs;
  for (const migrations::ContainerSpec& spec : manifest->containers) {
    if (options.container.empty() || spec.name == options.container) specs.push_back(&spec);
  }
  bool resuming = false;
  for (const auto* spec : specs) {
    const jobs::Job* job = latest_job(manager, *manifest, *database, spec->name, options.dry_run);
    resuming = resuming || (job != nullptr && !jobs::is_terminal(job->state));
  }
  std::vector<RunEntry> entries(specs.size());
  std::vector<jobs::SubmitRequest> requests;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const jobs::Job* job =
        latest_job(manager, *manifest, *database, specs[i]->name, options.dry_run);
    if (resuming && job != nullptr &&
        (!jobs::is_terminal(job->state) || job->state == jobs::JobState::kSucceeded)) {
      entries[i] = RunEntry{.job_id = job->id,
                            .resumed = !jobs::is_terminal(job->state),
                            .done = jobs::is_terminal(job->state),
                            .start = job->progress};
      continue;
    }
    requests.push_back(jobs::SubmitRequest{.manifest = *manifest,
                                           .dry_run = options.dry_run,
                                           .operator_name = options.operator_name,
                                           .backup_confirmed = options.backup_confirmed,
                                           .container = specs[i]->name,
                                           .knobs = knobs});
  }
  // The live gate and every other check pass for all new jobs before any is created.
  for (const jobs::SubmitRequest& request : requests) {
    if (auto checked = manager.check(request); !checked) {
      spdlog::error("{}{}", checked.error().code == "live_gate" ? "live gate: " : "",
                    checked.error().message);
      return kExitUsage;
    }
  }
  auto next_request = requests.begin();
  for (RunEntry& entry : entries) {
    if (!entry.job_id.empty()) {
      spdlog::info("{} {}: {} (job {}, {} batches done)", manifest->id,
                   manager.find(entry.job_id)->container,
                   entry.done ? "finished by the interrupted run" : "resuming the interrupted run",
                   entry.job_id, entry.start.batches);
      if (entry.resumed) {
        // This command's knobs, not the interrupted run's.
        const jobs::KnobPatch patch{knobs.batch_size,
                                    knobs.write_concurrency,
                                    knobs.max_documents_per_second,
                                    knobs.max_request_units_per_second,
                                    knobs.write_mode,
                                    knobs.range_concurrency};
        (void)manager.patch(entry.job_id, patch, options.operator_name);
        if (manager.find(entry.job_id)->pause_requested) {
          (void)manager.resume(entry.job_id, options.operator_name);
        }
      }
      continue;
    }
    auto ids = manager.submit(*next_request++);
    if (!ids) {
      spdlog::error("{}", ids.error().message);
      return kExitUsage;
    }
    entry.job_id = ids->front();
  }

  // SIGTERM/SIGINT: the job layer's shutdown (the batch in flight finishes and checkpoints; the
  // job stays resumable); later containers do not start.
  std::optional<int> signalled;
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::warn("signal {}: stopping after the current batch", signal);
    signalled = signal;
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { co_await manager.shutdown(kShutdownGrace); },
        net::detached);
  });

  bool failed = false;
  auto run_all = [&]() -> net::awaitable<void> {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      RunEntry& entry = entries[i];
      if (entry.done) continue;
      if (signalled || manager.shutting_down()) break;
      const jobs::Job& job = *manager.find(entry.job_id);
      const auto started = clock.monotonic_now();
      entry.ran = true;
      admitted = entry.job_id;
      manager.schedule();
      bool ended = false;
      while (!ended) {
        run_ended.expires_at(net::steady_timer::time_point::max());
        boost::system::error_code woken;
        co_await run_ended.async_wait(net::redirect_error(net::use_awaitable, woken));
        ended = jobs::is_terminal(job.state) || manager.shutting_down();
      }
      entry.seconds = std::chrono::duration<double>(clock.monotonic_now() - started).count();
      if (job.state != jobs::JobState::kFailed) continue;
      failed = true;
      // A verification writes nothing: its report covers every container, not the first finding.
      if (!kind.writes) continue;
      for (std::size_t later = i + 1; later < entries.size(); ++later) {
        if (!entries[later].done) (void)manager.stop(entries[later].job_id, options.operator_name);
      }
      break;
    }
    admitted.clear();
  };
  net::co_spawn(io, run_all(), [&](std::exception_ptr error) {
    if (error) {
      spdlog::critical("run ended by an exception");
      failed = true;
    }
    signals.cancel();
  });
  io.run();

  const bool stopped = signalled.has_value();
  const int exit_code = stopped ? kExitStopped : (failed ? kExitFailed : kExitSucceeded);
  print_summary(run_summary(manager, manifest->id, *database, options.dry_run, entries, signalled,
                            exit_code == kExitSucceeded));
  return exit_code;
}

}  // namespace backfilld::cli
