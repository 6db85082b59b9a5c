#pragma once
/// ISO 8601 UTC timestamps with milliseconds ("2026-11-24T20:41:07.123Z") for JSON and logs.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace backfilld::common {

std::string iso8601(std::chrono::system_clock::time_point when);

/// Parses what iso8601 writes; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace backfilld::common
