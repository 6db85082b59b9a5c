#include "daemon/governor/rate_limiter.hpp"

#include <algorithm>

namespace backfilld::governor {

void RateLimiter::advance(double rate, Clock::time_point now, Clock::duration burst) {
  const double burst_seconds = std::chrono::duration<double>(burst).count();
  if (rate_ > 0 && now > updated_) {
    owed_ -= rate_ * std::chrono::duration<double>(now - updated_).count();
  }
  updated_ = std::max(updated_, now);
  if (rate <= 0) {
    owed_ = 0;  // unlimited: start again with full credit
  } else if (rate_ <= 0) {
    owed_ = -rate * burst_seconds;
  } else {
    owed_ = std::max(owed_, -rate * burst_seconds);
  }
  rate_ = std::max(0.0, rate);
}

RateLimiter::Clock::duration RateLimiter::wait(double rate,
                                               Clock::time_point now,
                                               Clock::duration burst) {
  advance(rate, now, burst);
  if (rate_ <= 0 || owed_ <= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(owed_ / rate_));
}

RateLimiter::Clock::duration RateLimiter::spend(double amount,
                                                double rate,
                                                Clock::time_point now,
                                                Clock::duration burst) {
  advance(rate, now, burst);
  if (rate_ > 0)
    owed_ = std::max(owed_ + amount, -rate_ * std::chrono::duration<double>(burst).count());
  return wait(rate, now, burst);
}

}  // namespace backfilld::governor
