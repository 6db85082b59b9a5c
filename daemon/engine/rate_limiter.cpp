#include "daemon/engine/rate_limiter.hpp"

#include <algorithm>

namespace backfilld::engine {

RateLimiter::Clock::duration RateLimiter::spend(double amount,
                                                double rate,
                                                Clock::time_point now,
                                                Clock::duration burst) {
  if (rate <= 0 || amount <= 0) {
    if (rate <= 0) next_free_ = Clock::time_point{};  // unlimited: start again with full credit
    return Clock::duration::zero();
  }
  const auto cost =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(amount / rate));
  next_free_ = std::max(next_free_, now - burst) + cost;
  return std::max(Clock::duration::zero(), next_free_ - now);
}

}  // namespace backfilld::engine
