#pragma once
/// A pacing limiter: spend `amount` units at `rate` per second, learn how long to wait first.
/// Pure (time is passed in), so it is tested without sleeping. The debt is kept in units, not in
/// time, so a new rate applies to what is owed at once: raising the rate shortens a wait in
/// progress, lowering it lengthens the next one.
#include <chrono>

namespace backfilld::governor {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// Records `amount` units spent at `now` and returns how long to wait before spending more so
  /// the average stays at `rate` per second. A rate of 0 or less means unlimited (no wait, and
  /// the debt is forgotten). Idle time earns at most `burst` of credit. A negative amount is a
  /// refund (a reservation that cost less than reserved).
  Clock::duration spend(double amount,
                        double rate,
                        Clock::time_point now,
                        Clock::duration burst = std::chrono::seconds(1));

  /// How long from `now` until the debt is paid at `rate`, the rate in effect from now on (time
  /// since the last call paid at the rate then in effect). Call it again when the rate changes.
  Clock::duration wait(double rate,
                       Clock::time_point now,
                       Clock::duration burst = std::chrono::seconds(1));

 private:
  /// Pays the time since the last call at the old rate, then switches to `rate`.
  void advance(double rate, Clock::time_point now, Clock::duration burst);

  double owed_ = 0;  ///< units spent beyond the rate; negative: credit (at most rate * burst)
  double rate_ = 0;  ///< the rate in effect since `updated_`; 0: unlimited
  Clock::time_point updated_{};
};

}  // namespace backfilld::governor
