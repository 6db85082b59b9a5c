#pragma once
/// Log set-up: human lines by default, JSON lines with --log-format json. Logs go to stderr so a
/// command's stdout carries only its result.
#include <string_view>

#include "daemon/common/result.hpp"

namespace backfilld::common {

enum class LogFormat { kHuman, kJson };

/// Parses "human" or "json".
Result<LogFormat> parse_log_format(std::string_view text);

/// Installs the default logger; `verbose` turns on debug lines.
void configure_logging(LogFormat format, bool verbose);

}  // namespace backfilld::common
