// Wiring only: parses the command line and hands over to the command that does the work.
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <optional>

#include "daemon/cli/run_command.hpp"
#include "daemon/cli/serve_command.hpp"
#include "daemon/common/env.hpp"
#include "daemon/common/logging.hpp"

namespace po = boost::program_options;
using namespace backfilld;

namespace {

constexpr const char* kUsage =
    "usage: backfilld run --manifest FILE [--container NAME] [--dry-run] [--batch-size N]\n"
    "                     [--write-concurrency N] [--write-mode auto|batch|bulk|single]\n"
    "                     [--verbose] [--log-format human|json]\n"
    "                     [--insecure-skip-tls-verify]\n"
    "       backfilld serve [--listen ADDR] [--state-dir DIR] [--manifest-dir DIR]\n"
    "                       [--max-running-jobs N] [--max-jobs-per-container N]\n"
    "                       [--allow-live-without-dry-run] [--grace-period SECONDS]\n"
    "                       [--write-concurrency N] [--write-mode auto|batch|bulk|single]\n"
    "                       [--environment NAME] [--verbose]\n"
    "                       [--log-format human|json] [--insecure-skip-tls-verify]\n"
    "       backfilld --version\n"
    "Environment: COSMOS_ENDPOINT, COSMOS_KEY, COSMOS_DATABASE, COSMOS_CA_FILE,\n"
    "FIELD_ENCRYPT_ENABLED, FIELD_ENCRYPT_KEY_PROVIDER (env|file), FIELD_ENCRYPT_KEY,\n"
    "FIELD_ENCRYPT_KEY_ID, FIELD_ENCRYPT_KEYRING_FILE; serve also BACKFILLD_LISTEN,\n"
    "BACKFILLD_STATE_DIR, BACKFILLD_MANIFEST_DIR, BACKFILLD_ENVIRONMENT,\n"
    "BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE.\n";

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

/// Parses a command's options and sets up logging; an exit code when the command must not run.
std::optional<int> parse(const char* command,
                         const std::vector<std::string>& args,
                         po::options_description& description,
                         po::variables_map& values) {
  std::string log_format = "human";
  bool verbose = false;
  description.add_options()("verbose", po::bool_switch(&verbose))("log-format",
                                                                  po::value(&log_format));
  try {
    po::store(po::command_line_parser(args).options(description).run(), values);
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

int run(const std::vector<std::string>& args) {
  cli::RunCommandOptions options;
  std::uint32_t batch_size = 0;
  std::string write_mode;
  po::options_description description("run");
  // clang-format off
  description.add_options()
      ("manifest", po::value(&options.manifest_path)->required())
      ("container", po::value(&options.container))
      ("dry-run", po::bool_switch(&options.dry_run))
      ("batch-size", po::value(&batch_size))
      ("write-concurrency", po::value(&options.write_concurrency))
      ("write-mode", po::value(&write_mode))
      ("insecure-skip-tls-verify", po::bool_switch(&options.insecure_skip_tls_verify));
  // clang-format on
  po::variables_map values;
  if (auto exit_code = parse("run", args, description, values)) return *exit_code;
  if (!set_write_mode("run", write_mode, options.write_mode)) return cli::kExitUsage;
  if (values.count("batch-size")) {
    if (batch_size < 1 || batch_size > 1000) {
      std::cerr << "backfilld run: --batch-size must be from 1 to 1000\n";
      return cli::kExitUsage;
    }
    options.batch_size = batch_size;
  }
  if (options.write_concurrency < 1 || options.write_concurrency > 256) {
    std::cerr << "backfilld run: --write-concurrency must be from 1 to 256\n";
    return cli::kExitUsage;
  }
  return cli::run_command(options, common::process_env());
}

int serve(const std::vector<std::string>& args) {
  cli::ServeCommandOptions options;
  bool allow_live_without_dry_run = false;
  long grace_seconds = options.grace_period.count();
  std::string write_mode;
  po::options_description description("serve");
  // clang-format off
  description.add_options()
      ("listen", po::value(&options.listen))
      ("state-dir", po::value(&options.state_dir))
      ("manifest-dir", po::value(&options.manifest_dir))
      ("environment", po::value(&options.environment))
      ("max-running-jobs", po::value(&options.max_running_jobs))
      ("max-jobs-per-container", po::value(&options.max_jobs_per_container))
      ("allow-live-without-dry-run", po::bool_switch(&allow_live_without_dry_run))
      ("grace-period", po::value(&grace_seconds))
      ("write-concurrency", po::value(&options.write_concurrency))
      ("write-mode", po::value(&write_mode))
      ("insecure-skip-tls-verify", po::bool_switch(&options.insecure_skip_tls_verify));
  // clang-format on
  po::variables_map values;
  if (auto exit_code = parse("serve", args, description, values)) return *exit_code;
  if (!set_write_mode("serve", write_mode, options.write_mode)) return cli::kExitUsage;
  if (options.max_running_jobs < 1 || options.max_jobs_per_container < 1 || grace_seconds < 0 ||
      options.write_concurrency < 1 || options.write_concurrency > 256) {
    std::cerr << "backfilld serve: limits must be at least 1, --write-concurrency at most 256, "
                 "--grace-period not negative\n";
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
  std::cerr << "backfilld: unknown command \"" << args[0] << "\"\n" << kUsage;
  return cli::kExitUsage;
}
