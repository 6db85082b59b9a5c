#include "daemon/cli/run_command.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "daemon/common/asio.hpp"
#include "daemon/common/time_format.hpp"
#include "daemon/config/cosmos_settings.hpp"
#include "daemon/crypto/keyring.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/run_checks.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::cli {
namespace {

std::string_view status_name(engine::RunStatus status) {
  switch (status) {
    case engine::RunStatus::kSucceeded:
      return "succeeded";
    case engine::RunStatus::kFailed:
      return "failed";
    case engine::RunStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

/// Keys for this run: required and checked for a live run of a kind that needs them (and for
/// verify); loaded if configured otherwise.
common::Result<std::unique_ptr<crypto::Keyring>> keys_for(const RunCommandOptions& options,
                                                          const migrations::KindInfo& kind,
                                                          const common::EnvLookup& env) {
  if (kind.needs_keys && (!options.dry_run || !kind.writes)) {
    if (!crypto::encryption_enabled(env)) {
      return common::fail("config", std::string(kind.writes ? "a live " : "a ") +
                                        std::string(kind.name) +
                                        " run needs FIELD_ENCRYPT_ENABLED=true");
    }
    return crypto::load_keyring(env);
  }
  if (!env("FIELD_ENCRYPT_KEY_PROVIDER")) return std::unique_ptr<crypto::Keyring>();
  return crypto::load_keyring(env);
}

void print_summary(const rapidjson::Document& summary) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  summary.Accept(writer);
  std::fwrite(buffer.GetString(), 1, buffer.GetSize(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int run_command(const RunCommandOptions& options, const common::EnvLookup& env) {
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
  const migrations::KindInfo& kind = *migrations::find_kind_info(manifest->kind);
  auto keyring = keys_for(options, kind, env);
  if (!keyring) {
    spdlog::error("{}", keyring.error().message);
    return kExitUsage;
  }
  if (*keyring) {
    spdlog::info("keys from provider {}: primary kid {}", (*keyring)->provider(),
                 (*keyring)->primary_kid());
  } else if (kind.needs_keys) {
    spdlog::info("dry run without keys: documents are classified, nothing is encrypted");
  }

  net::io_context io;
  auto client = cosmos::Client::create(io.get_executor(), settings->client);
  if (!client) {
    spdlog::error("{}", client.error().message);
    return kExitUsage;
  }

  engine::SystemClock clock;
  engine::RunSettings run_settings{.batch_size = options.batch_size.value_or(manifest->batch_size),
                                   .write_concurrency = options.write_concurrency,
                                   .max_conflict_retries = 5,
                                   .write_mode = options.write_mode};
  const std::string updated_at = common::iso8601(std::chrono::system_clock::now());

  rapidjson::Document summary(rapidjson::kObjectType);
  auto& allocator = summary.GetAllocator();
  summary.AddMember("manifest", rapidjson::Value(manifest->id.c_str(), allocator), allocator);
  summary.AddMember("database", rapidjson::Value(database->c_str(), allocator), allocator);
  summary.AddMember("dryRun", options.dry_run, allocator);
  rapidjson::Value containers(rapidjson::kArrayType);

  // One signal wait for the whole run: SIGTERM/SIGINT finishes the batch in flight (a pacing
  // wait ends at once), then stops; later containers do not start.
  bool stop_requested = false;
  engine::ContainerRunner* current = nullptr;
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::warn("signal {}: stopping after the current batch", signal);
    stop_requested = true;
    if (current != nullptr) current->wake();
  });

  int exit_code = kExitSucceeded;
  auto run_all = [&]() -> net::awaitable<void> {
    for (const migrations::ContainerSpec& spec : manifest->containers) {
      if (!options.container.empty() && spec.name != options.container) continue;
      auto transform = migrations::make_transform(*manifest, spec, keyring->get(),
                                                  crypto::random_iv, updated_at);
      if (!transform) {
        spdlog::error("{}/{}: {}", manifest->id, spec.name, transform.error().message);
        exit_code = kExitUsage;
        co_return;
      }
      engine::RunTarget target{
          .job_label = manifest->id + "/" + spec.name,
          .container = {*database, spec.name},
          .partition_key_path = spec.partition_key_path,
          .product_id = manifest->product_id,
          .stop = manifest->stop,
          .mode = options.dry_run ? migrations::Mode::kDryRun : migrations::Mode::kLive,
          .rewritten_name = std::string(kind.rewritten_name)};
      const engine::CheckTarget check_target{*manifest, spec, *database, target.mode};
      engine::RunHooks hooks{
          .before_batch = [&]() -> net::awaitable<bool> { co_return !stop_requested; },
          .after_batch = {},
          .interrupted = [&] { return stop_requested; }};
      engine::ContainerRunner runner(**client, **transform, target, run_settings, clock, hooks);
      spdlog::info("{}: {} run started (batch size {})", target.job_label,
                   options.dry_run ? "dry" : "live", run_settings.batch_size);
      const auto started = clock.monotonic_now();
      current = &runner;
      engine::RunOutcome outcome;
      engine::CheckReport checks;
      try {
        outcome = co_await engine::run_with_checks(runner.store(), runner, check_target, checks);
      } catch (const std::exception& exception) {
        outcome = {engine::RunStatus::kFailed, std::string("internal error: ") + exception.what()};
      }
      current = nullptr;
      const double seconds = std::chrono::duration<double>(clock.monotonic_now() - started).count();
      const engine::Counts& counts = runner.observed();

      rapidjson::Value entry(rapidjson::kObjectType);
      entry.AddMember("container", rapidjson::Value(spec.name.c_str(), allocator), allocator);
      entry.AddMember("status", rapidjson::StringRef(status_name(outcome.status).data()),
                      allocator);
      if (!outcome.reason.empty()) {
        entry.AddMember("reason", rapidjson::Value(outcome.reason.c_str(), allocator), allocator);
      }
      entry.AddMember("counts",
                      engine::counts_to_json(counts, (*transform)->fields(), target.rewritten_name,
                                             allocator, kind.left_name),
                      allocator);
      entry.AddMember("checks", engine::check_report_to_json(checks, allocator), allocator);
      entry.AddMember("seconds", seconds, allocator);
      entry.AddMember("docsPerSecond",
                      seconds > 0 ? static_cast<double>(counts.scanned) / seconds : 0.0, allocator);
      containers.PushBack(entry, allocator);

      if (outcome.status == engine::RunStatus::kSucceeded) {
        spdlog::info("{}: succeeded: scanned {} in {:.1f} s", target.job_label, counts.scanned,
                     seconds);
        continue;
      }
      spdlog::error("{}: {}: {}", target.job_label, status_name(outcome.status), outcome.reason);
      exit_code = outcome.status == engine::RunStatus::kStopped ? kExitStopped : kExitFailed;
      // A verification writes nothing: its report covers every container, not the first finding.
      if (outcome.status == engine::RunStatus::kFailed && !kind.writes) continue;
      co_return;
    }
  };
  net::co_spawn(io, run_all(), [&](std::exception_ptr error) {
    if (error) {
      spdlog::critical("run ended by an exception");
      exit_code = kExitFailed;
    }
    signals.cancel();
  });
  io.run();
  summary.AddMember("containers", containers, allocator);
  summary.AddMember("ok", exit_code == kExitSucceeded, allocator);
  print_summary(summary);
  return exit_code;
}

}  // namespace backfilld::cli
