#include "daemon/ctl/arguments.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <set>
#include <string_view>

#include "daemon/common/json.hpp"
#include "daemon/engine/run_settings.hpp"

namespace backfilld::ctl {
namespace {

namespace po = boost::program_options;

/// Each command with how many operands it takes (min, max; -1: any number).
struct CommandShape {
  std::string_view name;
  int min_operands;
  int max_operands;
  std::string_view operands;  ///< for the error message
};
constexpr CommandShape kCommands[] = {
    {"jobs", 0, 0, ""},
    {"show", 1, 1, "JOB"},
    {"submit", 1, 1, "MANIFEST"},
    {"pause", 1, 1, "JOB"},
    {"resume", 1, 1, "JOB"},
    {"stop", 1, 1, "JOB"},
    {"set", 2, -1, "JOB key=value..."},
    {"report", 1, 1, "JOB"},
    {"watch", 0, 1, "[JOB]"},
};

constexpr std::string_view kKnobs =
    "batchSize, writeConcurrency, rangeConcurrency, maxDocumentsPerSecond, "
    "maxRequestUnitsPerSecond, maxThroughputFraction, writeMode";

common::Unexpected<common::Error> usage(std::string message) {
  return common::fail("usage", std::move(message));
}

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

const char* const kCtlHelp =
    "usage: backfilld ctl COMMAND [options]\n"
    "  jobs                        every job: id, state, mode, container, progress\n"
    "  show JOB                    one job's status, knobs and counts\n"
    "  submit MANIFEST [--dry-run] [--backup-confirmed TEXT] [--operator NAME] [--container C]\n"
    "                              submit the manifest file (JSON); without --dry-run the jobs\n"
    "                              are live, which the daemon's live gate allows only after a\n"
    "                              succeeded dry run and with --backup-confirmed\n"
    "  pause JOB | resume JOB | stop JOB [--operator NAME]\n"
    "  set JOB key=value... [--operator NAME]\n"
    "                              change knobs of a queued, running or paused job: batchSize,\n"
    "                              writeConcurrency, rangeConcurrency, maxDocumentsPerSecond,\n"
    "                              maxRequestUnitsPerSecond (0: no limit),\n"
    "                              maxThroughputFraction (0 to 1), writeMode\n"
    "  report JOB                  the release record\n"
    "  watch [JOB] [--interval SECONDS] [--once]\n"
    "                              a live view of every job (or one): state, progress bar,\n"
    "                              documents/s, ETA, why it waits, each partition key range;\n"
    "                              redraws in place on a terminal, prints each change when piped\n"
    "Options: --output text|json (json: the API's answer as is), --help\n"
    "Environment: BACKFILLD_URL (default http://127.0.0.1:8080), BACKFILLD_API_TOKEN or\n"
    "BACKFILLD_API_TOKEN_FILE (a file holding the token), USER (the default --operator)\n"
    "Exit codes: 0 done; 1 the daemon failed (5xx); 2 bad arguments, or the daemon refused the\n"
    "request (4xx, its error shown); 3 the daemon cannot be reached; 4 not authorized (401/403:\n"
    "check BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE); 5 no such job (404)\n";

common::Result<CtlArgs> parse_ctl_args(const std::vector<std::string>& args) {
  CtlArgs parsed;
  std::string output = "text";
  double interval_seconds = 1.0;
  std::vector<std::string> positional;
  po::options_description options;
  // clang-format off
  options.add_options()
      ("output,o", po::value(&output))
      ("help,h", po::bool_switch(&parsed.help))
      ("dry-run", po::bool_switch(&parsed.dry_run))
      ("backup-confirmed", po::value<std::string>())
      ("operator", po::value<std::string>())
      ("container", po::value<std::string>())
      ("interval", po::value(&interval_seconds))
      ("once", po::bool_switch(&parsed.once))
      ("positional", po::value(&positional));
  // clang-format on
  po::positional_options_description positions;
  positions.add("positional", -1);
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positions).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    return usage(error.what());
  }
  if (parsed.help) return parsed;
  if (output != "text" && output != "json") return usage("--output must be text or json");
  parsed.json = output == "json";
  if (positional.empty()) return usage("a command is needed");
  parsed.command = positional.front();
  parsed.operands.assign(positional.begin() + 1, positional.end());
  const CommandShape* shape = nullptr;
  for (const CommandShape& candidate : kCommands)
    if (candidate.name == parsed.command) shape = &candidate;
  if (shape == nullptr) return usage("unknown command \"" + parsed.command + "\"");
  const int count = static_cast<int>(parsed.operands.size());
  if (count < shape->min_operands || (shape->max_operands >= 0 && count > shape->max_operands)) {
    std::string expected = shape->operands.empty() ? "no operands" : std::string(shape->operands);
    return usage(parsed.command + " takes " + expected + ", got " + std::to_string(count) +
                 (count == 1 ? " operand" : " operands"));
  }
  // Options a command does not take are errors, not silently ignored.
  const std::set<std::string_view> submit_only = {"dry-run", "backup-confirmed", "container"};
  const std::set<std::string_view> watch_only = {"interval", "once"};
  const std::set<std::string_view> with_operator = {"submit", "pause", "resume", "stop", "set"};
  for (const auto& [name, value] : values) {
    if (value.defaulted()) continue;
    if (name == "dry-run" && !parsed.dry_run) continue;
    if (name == "once" && !parsed.once) continue;
    const bool allowed = (submit_only.contains(name) && parsed.command == "submit") ||
                         (watch_only.contains(name) && parsed.command == "watch") ||
                         (name == "operator" && with_operator.contains(parsed.command)) ||
                         name == "output" || name == "positional" || name == "help";
    if (!allowed) return usage("--" + name + " does not apply to " + parsed.command);
  }
  if (values.count("backup-confirmed"))
    parsed.backup_confirmed = values["backup-confirmed"].as<std::string>();
  if (values.count("operator")) parsed.operator_name = values["operator"].as<std::string>();
  if (values.count("container")) parsed.container = values["container"].as<std::string>();
  if (!(interval_seconds >= 0.1 && interval_seconds <= 3600))
    return usage("--interval must be from 0.1 to 3600 seconds");
  parsed.interval = std::chrono::milliseconds(static_cast<long>(interval_seconds * 1000));
  return parsed;
}

common::Result<std::string> knob_patch_body(const std::vector<std::string>& assignments,
                                            const std::string& operator_name) {
  engine::KnobPatch patch;
  rapidjson::Document body(rapidjson::kObjectType);
  auto& allocator = body.GetAllocator();
  std::set<std::string> seen;
  for (const std::string& assignment : assignments) {
    const std::size_t equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      return usage("set: \"" + assignment + "\" is not key=value (keys: " + std::string(kKnobs) +
                   ")");
    }
    const std::string key = assignment.substr(0, equals);
    const std::string_view value = std::string_view(assignment).substr(equals + 1);
    if (!seen.insert(key).second) return usage("set: " + key + " given twice");
    rapidjson::Value name(key.c_str(), allocator);
    if (key == "batchSize" || key == "writeConcurrency" || key == "rangeConcurrency") {
      const auto number = parse_number<std::uint32_t>(value);
      if (!number)
        return usage("set: " + key + "=" + std::string(value) + ": must be a whole number");
      (key == "batchSize"          ? patch.batch_size
       : key == "writeConcurrency" ? patch.write_concurrency
                                   : patch.range_concurrency) = *number;
      body.AddMember(name, *number, allocator);
    } else if (key == "maxDocumentsPerSecond" || key == "maxRequestUnitsPerSecond" ||
               key == "maxThroughputFraction") {
      const auto number = parse_number<double>(value);
      if (!number) return usage("set: " + key + "=" + std::string(value) + ": must be a number");
      (key == "maxDocumentsPerSecond"      ? patch.max_documents_per_second
       : key == "maxRequestUnitsPerSecond" ? patch.max_request_units_per_second
                                           : patch.max_throughput_fraction) = *number;
      if (std::floor(*number) == *number && *number >= 0 && *number < 9e15) {
        body.AddMember(name, static_cast<std::uint64_t>(*number), allocator);
      } else {
        body.AddMember(name, *number, allocator);
      }
    } else if (key == "writeMode") {
      patch.write_mode = engine::parse_write_mode(value);
      if (!patch.write_mode)
        return usage("set: writeMode=" + std::string(value) +
                     ": must be auto, batch, bulk or single");
      body.AddMember(
          name,
          rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), allocator),
          allocator);
    } else {
      return usage("set: unknown knob \"" + key + "\" (one of " + std::string(kKnobs) + ")");
    }
  }
  if (auto valid = engine::validate(patch); !valid) return usage("set: " + valid.error().message);
  if (!operator_name.empty())
    body.AddMember("operator", rapidjson::Value(operator_name.c_str(), allocator), allocator);
  return common::to_json(body);
}

}  // namespace backfilld::ctl
