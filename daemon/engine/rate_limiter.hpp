#pragma once
/// A pacing limiter: spend `amount` units at `rate` per second, learn how long to wait first.
/// Pure (time is passed in), so it is tested without sleeping.
#include <chrono>

namespace backfilld::engine {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Records `amount` units spent at `now` and returns how long to wait before spending more so
  /// the average stays at `rate` per second. A rate of 0 or less means unlimited (no wait, and
  /// the debt is forgotten). Idle time earns at most `burst` of credit.
  Clock::duration spend(double amount,
                        double rate,
                        Clock::time_point now,
                        Clock::duration burst = std::chrono::seconds(1));

 private:
  Clock::time_point next_free_{};
};

}  // namespace backfilld::engine
