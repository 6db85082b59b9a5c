#pragma once
/// Throttle signals from outside the daemon, as gh-ost has them: a flag file, the API, a
/// Prometheus query on the application's health. Each source holds at most one signal; the
/// strongest one in force decides: `slow` (jobs crawl) or `pause` (no job takes a new batch).
/// Pure: time is passed in; the watcher (throttle_watcher.hpp) feeds it.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace backfilld::governor {

enum class ThrottleLevel { kSlow, kPause };
std::string_view to_string(ThrottleLevel level);
std::optional<ThrottleLevel> parse_throttle_level(std::string_view text);

enum class ThrottleSource { kApi, kFlagFile, kQuery };
/// "api", "flag_file", "query": as the API and the metrics name it.
std::string_view to_string(ThrottleSource source);

struct ThrottleSignal {
  ThrottleSource source = ThrottleSource::kApi;
  ThrottleLevel level = ThrottleLevel::kPause;
  std::string reason;
  std::chrono::system_clock::time_point since{};
  std::optional<std::chrono::system_clock::time_point> expires = {};
};

class ThrottleBoard {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  /// Raises or updates `signal.source`'s signal; `since` is kept while the level stays the
  /// same. True when what jobs see changed.
  bool raise(ThrottleSignal signal);
  /// Lifts a source's signal; true when there was one.
  bool lift(ThrottleSource source);
  /// Lifts the signals whose expiry has passed; true when any was.
  bool expire(TimePoint now);
  /// The strongest signal in force (pause before slow, then the oldest), or nullopt.
  const ThrottleSignal* strongest() const;
  const std::map<ThrottleSource, ThrottleSignal>& signals() const { return signals_; }
  /// One line: "pause by the flag file: /run/backfilld/throttle exists (since 2026-...)".
  static std::string describe(const ThrottleSignal& signal);

 private:
  std::map<ThrottleSource, ThrottleSignal> signals_;
};

}  // namespace backfilld::governor
