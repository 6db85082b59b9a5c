#pragma once
/// The daemon's request-unit governor: one budget every job pays into, and the throttle signals
/// that slow or pause them all. Lives on the jobs thread; jobs ask it through JobGovernor.
#include <chrono>
#include <functional>
#include <optional>

#include "daemon/common/clock.hpp"
#include "daemon/governor/budget.hpp"
#include "daemon/governor/throttle.hpp"

namespace backfilld::governor {

struct GovernorSettings {
  double max_request_units_per_second = 0;  ///< the daemon's budget, all jobs together (0: none)
  /// Under a `slow` signal a job keeps this share of its budget (or of the container's
  /// provisioned throughput; `crawl_floor` RU/s when neither is known).
  double crawl_fraction = 0.1;
  double crawl_floor = 50;
  std::chrono::seconds offer_refresh{60};  ///< how often provisioned throughput is read again
};

class Governor {
 public:
  explicit Governor(GovernorSettings settings = {},
                    const common::Clock& clock = common::real_clock());
  Governor(const Governor&) = delete;
  Governor& operator=(const Governor&) = delete;

  const GovernorSettings& settings() const { return settings_; }
  const common::Clock& clock() const { return clock_; }
  /// The budget of all jobs together.
  Budget& budget() { return budget_; }
  const Budget& budget() const { return budget_; }

  /// The throttle signals; change them through raise/lift/expire below.
  const ThrottleBoard& throttles() const { return board_; }
  /// The strongest signal in force, or null.
  const ThrottleSignal* throttle() const { return board_.strongest(); }
  bool paused_by_throttle() const {
    const ThrottleSignal* signal = throttle();
    return signal != nullptr && signal->level == ThrottleLevel::kPause;
  }
  void raise(ThrottleSignal signal);
  void lift(ThrottleSource source);
  /// Lifts expired signals (called every second by the watcher).
  void expire();

  /// Called after the signals in force changed: the job manager wakes every job.
  void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

 private:
  void changed();
  GovernorSettings settings_;
  const common::Clock& clock_;
  Budget budget_;
  ThrottleBoard board_;
  std::function<void()> on_change_;
};

}  // namespace backfilld::governor
