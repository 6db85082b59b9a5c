#pragma once
/// A request-unit budget: a rate (RU/s, 0: none), what is owed against it, and what was spent
/// second by second. Pure (time is passed in). Units are reserved before a request is sent and
/// settled with its real charge after, so requests in flight at once cannot overshoot the rate.
#include <array>
#include <chrono>
#include <cstdint>

#include "daemon/governor/rate_limiter.hpp"

namespace backfilld::governor {

/// Units spent per second over the last minute.
class UsageMeter {
 public:
  using Clock = std::chrono::steady_clock;
  void add(double units, Clock::time_point now);
  /// Units per second over the `window` before `now` (at most a minute).
  double per_second(Clock::time_point now, Clock::duration window) const;
  double total() const { return total_; }

 private:
  static constexpr std::size_t kSeconds = 64;
  static std::int64_t second_of(Clock::time_point now);
  std::array<double, kSeconds> units_{};
  std::array<std::int64_t, kSeconds> second_{};  ///< which second each slot holds
  double total_ = 0;
};

class Budget {
 public:
  using Clock = std::chrono::steady_clock;
  /// Idle time earns this much credit at most: a budget is a ceiling, not a promise of bursts.
  static constexpr Clock::duration kBurst = std::chrono::milliseconds(100);

  /// The rate from now on (0: unlimited); what is owed is repaid at the new rate.
  void set_rate(double per_second, Clock::time_point now);
  double rate() const { return rate_; }
  /// How long from `now` until the budget admits another request.
  Clock::duration wait(Clock::time_point now);
  /// Spends `units` (negative: refunds an over-reservation) at `now`.
  void spend(double units, Clock::time_point now);
  const UsageMeter& usage() const { return usage_; }

 private:
  RateLimiter limiter_;
  UsageMeter usage_;
  double rate_ = 0;
};

}  // namespace backfilld::governor
