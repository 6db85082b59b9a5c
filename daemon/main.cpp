// Wiring only: parses the command line and hands over to the command that does the work.
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <cmath>
#include <iostream>
#include <optional>

#include "daemon/cli/run_command.hpp"
#include "daemon/cli/serve_command.hpp"
#include "daemon/common/env.hpp"
#include "daemon/common/logging.hpp"
#include "daemon/ctl/commands.hpp"
#include "daemon/engine/run_settings.hpp"

namespace po = boost::program_options;
using namespace backfilld;

namespace {

constexpr const char* kUsage =
    "usage: backfilld run --manifest FILE [--container NAME] [--dry-run] [--state-dir DIR]\n"
    "                     [--backup-confirmed TEXT] [--allow-live-without-dry-run]\n"
    "                     [--operator NAME] [--environment NAME] [--batch-size N]\n"
    "                     [--write-concurrency N] [--range-concurrency N]\n"
    "                     [--write-mode auto|batch|bulk|single]\n"
    "                     [--max-documents-per-second N] [--max-request-units-per-second N]\n"
    "                     [--verbose] [--log-format human|json]\n"
    "                     [--insecure-skip-tls-verify]\n"
    "       backfilld serve [--listen ADDR] [--state-dir DIR] [--manifest-dir DIR]\n"
    "                       [--max-running-jobs N] [--max-jobs-per-container N]\n"
    "                       [--allow-live-without-dry-run] [--grace-period SECONDS]\n"
    "                       [--write-concurrency N] [--range-concurrency N]\n"
    "                       [--write-mode auto|batch|bulk|single]\n"
    "                       [--total-request-units-per-second N]\n"
    "                       [--throttle-flag-file FILE] [--throttle-prometheus-url URL\n"
    "                        --throttle-query PROMQL [--throttle-threshold X]\n"
    "                        [--throttle-critical-threshold Y] [--throttle-query-interval S]]\n"
    "                       [--environment NAME] [--verbose]\n"
    "                       [--log-format human|json] [--insecure-skip-tls-verify]\n"
    "       backfilld ctl jobs|show|submit|pause|resume|stop|set|report|watch ...\n"
    "       backfilld --version\n"
    "Environment: COSMOS_ENDPOINT, COSMOS_KEY, COSMOS_DATABASE, COSMOS_CA_FILE,\n"
    "COSMOS_REQUEST_TIMEOUT_MS, FIELD_ENCRYPT_ENABLED, FIELD_ENCRYPT_KEY_PROVIDER (env|file), "
    "FIELD_ENCRYPT_KEY,\n"
    "FIELD_ENCRYPT_KEY_ID, FIELD_ENCRYPT_KEYRING_FILE, BACKFILLD_STATE_DIR,\n"
    "BACKFILLD_ENVIRONMENT; serve also BACKFILLD_LISTEN, BACKFILLD_MANIFEST_DIR,\n"
    "BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE; ctl BACKFILLD_URL and the token.\n"
    "Run `backfilld run --help`, `backfilld serve --help` or `backfilld ctl --help` for what each\n"
    "option does.\n";

/// Sets `mode` from a --write-mode value; false (with a message) when it names no mode.
bool set_write_mode(const char* command, const std::string& text, engine::WriteMode& mode) {
  if (text.empty()) return true;
  const auto parsed = engine::parse_write_mode(text);
  if (!parsed) {
    std::cerr << "backfilld " << command << ": --write-mode must be auto, batch, bulk or single\n";
    return false;
  }
  mode = *parsed;
  return true;
}

/// Parses a command's options and sets up logging; an exit code when the command must not run
/// (0 after --help, which prints the options).
std::optional<int> parse(const char* command,
                         const std::vector<std::string>& args,
                         po::options_description& description,
                         po::variables_map& values) {
  std::string log_format = "human";
  bool verbose = false;
  // clang-format off
  description.add_options()
      ("verbose", po::bool_switch(&verbose), "debug logs")
      ("log-format", po::value(&log_format), "human (default) or json")
      ("help,h", po::bool_switch(), "print these options");
  // clang-format on
  try {
    po::store(po::command_line_parser(args).options(description).run(), values);
    // --help before the check of required options: `backfilld run --help` needs no manifest.
    if (values.count("help") != 0 && values["help"].as<bool>()) {
      std::cout << "usage: backfilld " << command << " [options]\n" << description;
      return cli::kExitSucceeded;
    }
    po::notify(values);
  } catch (const po::error& error) {
    std::cerr << "backfilld " << command << ": " << error.what() << "\n" << kUsage;
    return cli::kExitUsage;
  }
  auto format = common::parse_log_format(log_format);
  if (!format) {
    std::cerr << "backfilld " << command << ": " << format.error().message << "\n";
    return cli::kExitUsage;
  }
  common::configure_logging(*format, verbose);
  return std::nullopt;
}

/// The knobs given as flags, checked by the one rule of engine::validate; the error names the
/// flag ("--batch-size: must be an integer from 1 to 1000").
bool valid_knobs(std::string_view command, const engine::KnobPatch& knobs) {
  auto valid = engine::validate(knobs);
  if (valid) return true;
  const std::string& message = valid.error().message;
  const std::size_t colon = message.find(':');
  std::string flag = "--";
  for (const char c : message.substr(0, colon)) {
    if (std::isupper(static_cast<unsigned char>(c)) != 0) {
      flag += '-';
      flag += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      flag += c;
    }
  }
  std::cerr << "backfilld " << command << ": " << flag << message.substr(colon) << "\n";
  return false;
}

int run(const std::vector<std::string>& args) {
  cli::RunCommandOptions options;
  std::uint32_t batch_size = 0;
  std::string write_mode;
  bool allow_live_without_dry_run = false;
  po::options_description description(
      "backfilld run: one manifest to completion, one container "
      "at a time; exit 0 succeeded, 1 a container failed, 2 bad "
      "arguments or configuration (nothing ran), 3 stopped by a "
      "signal (rerun to resume)");
  // clang-format off
  description.add_options()
      ("manifest", po::value(&options.manifest_path)->required(), "the migration manifest (JSON)")
      ("container", po::value(&options.container), "only this container of the manifest")
      ("dry-run", po::bool_switch(&options.dry_run), "count and classify, write nothing")
      ("state-dir", po::value(&options.state_dir),
       "checkpoints and job state (default: $BACKFILLD_STATE_DIR, else /var/lib/backfilld/run "
       "when writable, else ${XDG_STATE_HOME:-~/.local/state}/backfilld/run); a rerun with the "
       "same directory resumes an interrupted run")
      ("backup-confirmed", po::value(&options.backup_confirmed),
       "live runs of a writing kind: the backup or restore point they can be rolled back to")
      ("allow-live-without-dry-run", po::bool_switch(&allow_live_without_dry_run),
       "a live run needs no succeeded dry run of the same manifest in the state directory")
      ("operator", po::value(&options.operator_name), "who runs it (default: $USER, else cli)")
      ("environment", po::value(&options.environment),
       "for the release record (default: $BACKFILLD_ENVIRONMENT)")
      ("batch-size", po::value(&batch_size), "documents per page, 1-1000 (default: the manifest's)")
      ("range-concurrency", po::value(&options.range_concurrency),
       "partition key ranges scanned at once, 1-64 (default 4)")
      ("write-concurrency", po::value(&options.write_concurrency),
       "concurrent writes within a batch, 1-256 (default 16)")
      ("write-mode", po::value(&write_mode), "auto (default), batch, bulk or single")
      ("max-documents-per-second", po::value(&options.max_documents_per_second),
       "rate limit, 0: none")
      ("max-request-units-per-second", po::value(&options.max_request_units_per_second),
       "request-unit budget, 0: none")
      ("insecure-skip-tls-verify", po::bool_switch(&options.insecure_skip_tls_verify),
       "do not verify the server's certificate (local tests only)");
  // clang-format on
  po::variables_map values;
  if (auto exit_code = parse("run", args, description, values)) return *exit_code;
  if (!set_write_mode("run", write_mode, options.write_mode)) return cli::kExitUsage;
  engine::KnobPatch knobs{.write_concurrency = options.write_concurrency,
                          .max_documents_per_second = options.max_documents_per_second,
                          .max_request_units_per_second = options.max_request_units_per_second,
                          .range_concurrency = options.range_concurrency};
  if (values.count("batch-size")) knobs.batch_size = batch_size;
  if (!valid_knobs("run", knobs)) return cli::kExitUsage;
  if (values.count("batch-size")) options.batch_size = batch_size;
  const common::EnvLookup env = common::process_env();
  options.require_dry_run = !allow_live_without_dry_run;
  if (options.operator_name.empty()) {
    const auto user = env("USER");
    options.operator_name = user && !user->empty() ? *user : "cli";
  }
  if (options.environment.empty()) options.environment = env("BACKFILLD_ENVIRONMENT").value_or("");
  return cli::run_command(options, env);
}

int serve(const std::vector<std::string>& args) {
  cli::ServeCommandOptions options;
  bool allow_live_without_dry_run = false;
  long grace_seconds = options.grace_period.count();
  double threshold = 0;
  double critical = 0;
  long query_interval = 5;
  std::string write_mode;
  po::options_description description(
      "backfilld serve: the daemon, a queue of jobs driven over the HTTP control plane");
  // clang-format off
  description.add_options()
      ("listen", po::value(&options.listen), "address:port (default: $BACKFILLD_LISTEN, else "
       "127.0.0.1:8080; port 0 picks one)")
      ("state-dir", po::value(&options.state_dir),
       "checkpoints and job state (default: $BACKFILLD_STATE_DIR; required)")
      ("manifest-dir", po::value(&options.manifest_dir),
       "where a submitted manifestPath resolves (default: $BACKFILLD_MANIFEST_DIR)")
      ("environment", po::value(&options.environment),
       "for the release record (default: $BACKFILLD_ENVIRONMENT)")
      ("max-running-jobs", po::value(&options.max_running_jobs), "jobs running at once (default 2)")
      ("max-jobs-per-container", po::value(&options.max_jobs_per_container),
       "jobs running at once on one container (default 1)")
      ("allow-live-without-dry-run", po::bool_switch(&allow_live_without_dry_run),
       "a live job needs no succeeded dry run of the same manifest and container")
      ("grace-period", po::value(&grace_seconds),
       "seconds SIGTERM waits for batches in flight to checkpoint (default 25)")
      ("range-concurrency", po::value(&options.range_concurrency),
       "partition key ranges scanned at once, 1-64 (default 4)")
      ("write-concurrency", po::value(&options.write_concurrency),
       "jobs' default concurrent writes within a batch, 1-256 (default 16)")
      ("write-mode", po::value(&write_mode), "jobs' default: auto, batch, bulk or single")
      ("total-request-units-per-second", po::value(&options.total_request_units_per_second),
       "the request-unit budget of all jobs together, RU/s (default 0: none)")
      ("throttle-flag-file", po::value(&options.throttle.flag_file),
       "while this file exists, no job takes a new batch")
      ("throttle-prometheus-url", po::value(&options.throttle.prometheus_url),
       "http://host:port of the Prometheus the throttle query asks")
      ("throttle-query", po::value(&options.throttle.query),
       "PromQL giving one number about the application's health (e.g. its 429 rate)")
      ("throttle-threshold", po::value(&threshold),
       "at or above it, jobs crawl (10% of their budget)")
      ("throttle-critical-threshold", po::value(&critical),
       "at or above it, jobs take no new batch until it falls")
      ("throttle-query-interval", po::value(&query_interval),
       "seconds between throttle queries (default 5)")
      ("insecure-skip-tls-verify", po::bool_switch(&options.insecure_skip_tls_verify),
       "do not verify the server's certificate (local tests only)");
  // clang-format on
  po::variables_map values;
  if (auto exit_code = parse("serve", args, description, values)) return *exit_code;
  if (values.count("throttle-threshold") != 0) options.throttle.threshold = threshold;
  if (values.count("throttle-critical-threshold") != 0) options.throttle.critical = critical;
  options.throttle.interval = std::chrono::seconds(query_interval);
  if (auto valid = governor::validate(options.throttle); !valid) {
    std::cerr << "backfilld serve: " << valid.error().message << "\n";
    return cli::kExitUsage;
  }
  if (!(std::isfinite(options.total_request_units_per_second) &&
        options.total_request_units_per_second >= 0)) {
    std::cerr << "backfilld serve: --total-request-units-per-second must be 0 (none) or more\n";
    return cli::kExitUsage;
  }
  if (!set_write_mode("serve", write_mode, options.write_mode)) return cli::kExitUsage;
  if (!valid_knobs("serve", engine::KnobPatch{.write_concurrency = options.write_concurrency,
                                              .range_concurrency = options.range_concurrency})) {
    return cli::kExitUsage;
  }
  if (options.max_running_jobs < 1 || options.max_jobs_per_container < 1 || grace_seconds < 0) {
    std::cerr << "backfilld serve: --max-running-jobs and --max-jobs-per-container must be at "
                 "least 1, --grace-period not negative\n";
    return cli::kExitUsage;
  }
  options.require_dry_run = !allow_live_without_dry_run;
  options.grace_period = std::chrono::seconds(grace_seconds);
  return cli::serve_command(std::move(options), common::process_env());
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? cli::kExitUsage : cli::kExitSucceeded;
  }
  if (args[0] == "--version") {
    std::cout << "backfilld " BACKFILLD_VERSION "\n";
    return 0;
  }
  if (args[0] == "run") return run({args.begin() + 1, args.end()});
  if (args[0] == "serve") return serve({args.begin() + 1, args.end()});
  if (args[0] == "ctl") {
    return ctl::ctl_command({args.begin() + 1, args.end()}, common::process_env(), std::cout,
                            std::cerr);
  }
  std::cerr << "backfilld: unknown command \"" << args[0] << "\"\n" << kUsage;
  return cli::kExitUsage;
}
