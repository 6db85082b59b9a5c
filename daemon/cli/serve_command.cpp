#include "daemon/cli/serve_command.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "api/jobs_api.hpp"
#include "api/server.hpp"
#include "daemon/cli/run_command.hpp"
#include "daemon/config/cosmos_settings.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "daemon/jobs/status_board.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/state_store.hpp"

namespace backfilld::cli {
namespace {

/// Keys for live encryption jobs. A configured provider that fails is fatal at start (the
/// operator fixes it now, not at the first live job); no provider at all allows dry runs only.
common::Result<jobs::KeyState> load_keys(const common::EnvLookup& env) {
  jobs::KeyState keys;
  keys.enabled = crypto::encryption_enabled(env);
  if (!env("FIELD_ENCRYPT_KEY_PROVIDER")) {
    keys.error = "FIELD_ENCRYPT_KEY_PROVIDER is not set";
    if (keys.enabled)
      return common::fail("config", "FIELD_ENCRYPT_ENABLED=true needs " + keys.error);
    return keys;
  }
  auto keyring = crypto::load_keyring(env);
  if (!keyring) return common::Unexpected{keyring.error()};
  keys.keyring = std::move(keyring.value());
  return keys;
}

}  // namespace

int serve_command(ServeCommandOptions options, const common::EnvLookup& env) {
  if (options.listen.empty()) options.listen = env("BACKFILLD_LISTEN").value_or("127.0.0.1:8080");
  if (options.state_dir.empty()) options.state_dir = env("BACKFILLD_STATE_DIR").value_or("");
  if (options.manifest_dir.empty())
    options.manifest_dir = env("BACKFILLD_MANIFEST_DIR").value_or("");
  if (options.environment.empty()) options.environment = env("BACKFILLD_ENVIRONMENT").value_or("");
  if (options.state_dir.empty()) {
    spdlog::error("no state directory: set BACKFILLD_STATE_DIR or --state-dir");
    return kExitUsage;
  }
  auto settings = config::cosmos_settings_from_env(env, options.insecure_skip_tls_verify);
  if (!settings) {
    spdlog::error("{}", settings.error().message);
    return kExitUsage;
  }
  auto keys = load_keys(env);
  if (!keys) {
    spdlog::error("{}", keys.error().message);
    return kExitUsage;
  }
  if (keys->keyring) {
    spdlog::info("keys from provider {}: primary kid {}", keys->keyring->provider(),
                 keys->keyring->primary_kid());
  } else {
    spdlog::warn("no encryption keys: dry runs only ({})", keys->error);
  }
  auto state_store = state::FileStateStore::open(options.state_dir);
  if (!state_store) {
    spdlog::error("{}", state_store.error().message);
    return kExitUsage;
  }
  auto auth = api::BearerAuth::from_environment();
  if (!auth) {
    spdlog::error("{}", auth.error().message);
    return kExitUsage;
  }
  if (!auth->enabled()) {
    spdlog::warn(
        "no API token (BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE): /v1/* is open "
        "to anyone who can reach {}",
        options.listen);
  }

  net::io_context io;
  metrics::Metrics metrics;
  metrics.set_build_info(BACKFILLD_VERSION, BACKFILLD_COMMIT);
  auto client = cosmos::Client::create(io.get_executor(), settings->client);
  if (!client) {
    spdlog::error("{}", client.error().message);
    return kExitUsage;
  }

  engine::SystemClock clock;
  engine::RunSettings knobs;
  knobs.write_concurrency = options.write_concurrency;
  knobs.range_concurrency = options.range_concurrency;
  knobs.write_mode = options.write_mode;
  jobs::JobManager manager(
      io.get_executor(), **client, **state_store, metrics, clock, std::move(keys.value()),
      jobs::ManagerOptions{
          .max_running_jobs = options.max_running_jobs,
          .max_jobs_per_container = options.max_jobs_per_container,
          .require_dry_run = options.require_dry_run,
          .default_database = settings->database,
          .environment = options.environment,
          .build_commit = BACKFILLD_COMMIT,
          .default_knobs = knobs,
          .governor = {.max_request_units_per_second = options.total_request_units_per_second}});
  (*client)->set_observer(
      [&manager, record = metrics.request_observer()](const cosmos::RequestEvent& event) {
        record(event);
        manager.observe_request(event);
      });
  if (auto restored = manager.restore(); !restored) {
    spdlog::error("cannot restore jobs from {}: {}", options.state_dir, restored.error().message);
    return kExitUsage;
  }

  // The control plane has its own thread: a status read never waits behind page parsing or
  // batch handling. It answers GETs of jobs from the status board, which the jobs' thread
  // republishes every kStatusInterval and after every change made through the API; whatever
  // else touches a job runs on the jobs' thread.
  constexpr auto kStatusInterval = std::chrono::milliseconds(100);
  net::io_context control_io;
  jobs::StatusBoard board;
  jobs::publish_statuses(manager, board);
  std::atomic<bool> ready = true;
  bool publishing = true;  // until shutdown: the jobs' thread republishes the board
  api::Router router;
  api::add_job_routes(
      router, manager, metrics,
      api::JobsApiOptions{.manifest_dir = options.manifest_dir,
                          .ready = [&] { return ready.load() && !board.read()->shutting_down; },
                          .jobs_executor = io.get_executor(),
                          .board = &board});
  api::ServerLimits limits;
  limits.shutdown_grace = std::chrono::seconds(2);
  auto server = api::Server::start(
      control_io.get_executor(), options.listen, std::move(router), std::move(auth.value()), limits,
      [](const api::AuditRecord& record) {
        spdlog::info("audit: {} {} -> {} caller={} remote={} request={}", record.method,
                     record.path, record.status, api::to_string(record.caller), record.remote,
                     record.request_id);
      });
  if (!server) {
    spdlog::error("cannot listen on {}: {}", options.listen, server.error().message);
    return kExitUsage;
  }
  spdlog::info("backfilld {} ({}) serving on port {}, state in {}", BACKFILLD_VERSION,
               BACKFILLD_COMMIT, server->bound_port(), options.state_dir);

  // SIGTERM (Kubernetes) or SIGINT: not ready, no new batches, in-flight writes finish and
  // checkpoint within the grace period, then the control plane closes and the process exits 0.
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("signal {}: shutting down (grace period {} s)", signal,
                 options.grace_period.count());
    ready = false;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
          co_await manager.shutdown(
              std::chrono::duration_cast<std::chrono::milliseconds>(options.grace_period));
          publishing = false;
          jobs::publish_statuses(manager, board);
          auto stop_server = net::co_spawn(control_io, server->stop(), net::use_awaitable);
          co_await std::move(stop_server);
          io.stop();
        },
        net::detached);
  });
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        net::steady_timer timer(io);
        while (publishing) {
          jobs::publish_statuses(manager, board);
          timer.expires_after(kStatusInterval);
          boost::system::error_code ignored;
          co_await timer.async_wait(net::redirect_error(net::use_awaitable, ignored));
        }
      },
      net::detached);
  // Throttle signals from outside (flag file, Prometheus query), and expiry of the API's.
  net::co_spawn(io,
                governor::watch_throttles(manager.governor(), options.throttle,
                                          [&] { return manager.shutting_down(); }),
                net::detached);
  // The control plane's thread runs until the server has stopped (its work guard goes then).
  auto control_work = net::make_work_guard(control_io);
  std::thread control([&] { control_io.run(); });
  io.run();
  control_work.reset();
  control_io.stop();
  control.join();
  spdlog::info("backfilld stopped");
  return kExitSucceeded;
}

}  // namespace backfilld::cli
