#include "daemon/governor/governor.hpp"

#include <spdlog/spdlog.h>

namespace backfilld::governor {

Governor::Governor(GovernorSettings settings, const common::Clock& clock)
    : settings_(settings), clock_(clock) {
  budget_.set_rate(settings_.max_request_units_per_second, clock_.monotonic_now());
}

void Governor::raise(ThrottleSignal signal) {
  if (board_.raise(std::move(signal))) changed();
}

void Governor::lift(ThrottleSource source) {
  if (board_.lift(source)) {
    spdlog::info("throttle: the {} signal is lifted", to_string(source));
    changed();
  }
}

void Governor::expire() {
  if (board_.expire(clock_.system_now())) changed();
}

void Governor::changed() {
  if (const ThrottleSignal* signal = board_.strongest(); signal != nullptr) {
    spdlog::warn("throttle: jobs {}: {}",
                 signal->level == ThrottleLevel::kPause ? "take no new batch" : "crawl",
                 ThrottleBoard::describe(*signal));
  } else {
    spdlog::info("throttle: no signal in force; jobs run at their budgets");
  }
  if (on_change_) on_change_();
}

}  // namespace backfilld::governor
