#pragma once
/// Feeds the daemon's throttle signals from outside: a flag file (while it exists: `pause`) and
/// a Prometheus query on the application's health (at or above `threshold`: `slow`; at or above
/// `critical`: `pause`; a query that fails: `slow`, since the application's health is unknown).
/// Every second it also lifts expired signals.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"
#include "daemon/governor/governor.hpp"

namespace backfilld::governor {

struct ThrottleWatchSettings {
  std::string flag_file;            ///< empty: none
  std::string prometheus_url;       ///< http://host:port[/prefix]; empty: no query
  std::string query;                ///< PromQL giving one number
  std::optional<double> threshold;  ///< at or above: slow
  std::optional<double> critical;   ///< at or above: pause
  std::chrono::seconds interval{5};
  std::chrono::milliseconds query_timeout{3000};
};

/// Checks the settings; the error (code "usage") names the option at fault.
common::Result<void> validate(const ThrottleWatchSettings& settings);

/// The level a query's value asks for (nullopt: none). NaN (no data) asks for none.
std::optional<ThrottleLevel> level_for(double value, const ThrottleWatchSettings& settings);

/// The number a Prometheus /api/v1/query answer holds (a scalar, or a vector's single sample);
/// nullopt for an empty vector; an error names what is wrong with the answer.
common::Result<std::optional<double>> parse_query_answer(std::string_view body);

/// Runs until `stopped()` is true (checked every second).
net::awaitable<void> watch_throttles(Governor& governor,
                                     ThrottleWatchSettings settings,
                                     std::function<bool()> stopped);

}  // namespace backfilld::governor
