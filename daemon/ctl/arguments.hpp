#pragma once
/// The command line of `backfilld ctl`: which command, its operands and options, checked before
/// anything is sent.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/result.hpp"

namespace backfilld::ctl {

/// The exit codes of `backfilld ctl`, as its --help lists them.
enum CtlExit : int {
  kCtlOk = 0,
  kCtlFailed = 1,        ///< the daemon answered 5xx, or an unexpected answer
  kCtlUsage = 2,         ///< bad arguments, or a request the daemon refused (4xx, its error shown)
  kCtlUnreachable = 3,   ///< no connection to BACKFILLD_URL
  kCtlUnauthorized = 4,  ///< 401/403: the token of BACKFILLD_API_TOKEN(_FILE) is missing or wrong
  kCtlNotFound = 5,      ///< no such job (404)
};

/// The help text: commands, options, environment and exit codes.
extern const char* const kCtlHelp;

/// A parsed command line.
struct CtlArgs {
  std::string command;  ///< jobs, show, submit, pause, resume, stop, set, report, watch
  std::vector<std::string> operands;  ///< after the command: JOB, MANIFEST, key=value...
  bool json = false;                  ///< --output json
  bool help = false;
  bool dry_run = false;
  std::optional<std::string> backup_confirmed;
  std::optional<std::string> operator_name;
  std::optional<std::string> container;
  std::chrono::milliseconds interval{1000};
  bool once = false;
};

/// Parses `args` (what follows "ctl"); the error (code "usage") says what is wrong: an unknown
/// command or option, a missing or extra operand, an option the command does not take.
common::Result<CtlArgs> parse_ctl_args(const std::vector<std::string>& args);

/// The PATCH body of `set`: each "key=value" a knob of the API (batchSize, writeConcurrency,
/// rangeConcurrency, maxDocumentsPerSecond, maxRequestUnitsPerSecond, writeMode), numbers as
/// JSON numbers, checked by the daemon's own rule (engine::validate) so a bad value is named
/// here. `operator_name` is added when not empty.
common::Result<std::string> knob_patch_body(const std::vector<std::string>& assignments,
                                            const std::string& operator_name);

}  // namespace backfilld::ctl
