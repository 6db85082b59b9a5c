#include "daemon/governor/throttle.hpp"

#include <fmt/format.h>

#include "daemon/common/time_format.hpp"

namespace backfilld::governor {

std::string_view to_string(ThrottleLevel level) {
  return level == ThrottleLevel::kSlow ? "slow" : "pause";
}

std::optional<ThrottleLevel> parse_throttle_level(std::string_view text) {
  if (text == "slow") return ThrottleLevel::kSlow;
  if (text == "pause") return ThrottleLevel::kPause;
  return std::nullopt;
}

std::string_view to_string(ThrottleSource source) {
  switch (source) {
    case ThrottleSource::kApi:
      return "api";
    case ThrottleSource::kFlagFile:
      return "flag_file";
    case ThrottleSource::kQuery:
      return "query";
  }
  return "api";
}

namespace {

std::string_view human_name(ThrottleSource source) {
  switch (source) {
    case ThrottleSource::kApi:
      return "the API";
    case ThrottleSource::kFlagFile:
      return "the flag file";
    case ThrottleSource::kQuery:
      return "the throttle query";
  }
  return "the API";
}

}  // namespace

bool ThrottleBoard::raise(ThrottleSignal signal) {
  auto found = signals_.find(signal.source);
  if (found == signals_.end()) {
    signals_.emplace(signal.source, std::move(signal));
    return true;
  }
  ThrottleSignal& held = found->second;
  const bool changed = held.level != signal.level || held.reason != signal.reason;
  if (held.level == signal.level) signal.since = held.since;
  held = std::move(signal);
  return changed;
}

bool ThrottleBoard::lift(ThrottleSource source) { return signals_.erase(source) > 0; }

bool ThrottleBoard::expire(TimePoint now) {
  return std::erase_if(signals_, [now](const auto& entry) {
           return entry.second.expires && *entry.second.expires <= now;
         }) > 0;
}

const ThrottleSignal* ThrottleBoard::strongest() const {
  const ThrottleSignal* best = nullptr;
  for (const auto& [source, signal] : signals_) {
    if (best == nullptr || signal.level > best->level ||
        (signal.level == best->level && signal.since < best->since)) {
      best = &signal;
    }
  }
  return best;
}

std::string ThrottleBoard::describe(const ThrottleSignal& signal) {
  return fmt::format("{} by {}: {} (since {}{})", to_string(signal.level),
                     human_name(signal.source), signal.reason, common::iso8601(signal.since),
                     signal.expires ? ", until " + common::iso8601(*signal.expires) : "");
}

}  // namespace backfilld::governor
