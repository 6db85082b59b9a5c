#include "daemon/governor/range_control.hpp"

#include <algorithm>

namespace backfilld::governor {

void RangeControl::set_ceiling(double ceiling) {
  ceiling_ = std::max(0.0, ceiling);
  if (!backing_off_) {
    limit_ = ceiling_;
  } else if (ceiling_ > 0 && limit_ > ceiling_) {
    limit_ = ceiling_;
  }
}

void RangeControl::throttled(Clock::time_point now,
                             double observed,
                             std::optional<std::chrono::milliseconds> retry_after) {
  ++throttles_;
  if (retry_after) quiet_until_ = std::max(quiet_until_, now + *retry_after);
  // Requests in flight when the first 429 came answer 429 too: one cut per burst.
  if (backing_off_ && now < cut_at_ + settings_.settle) return;
  const double base = limit_ > 0 ? limit_ : observed;
  const double before = std::max(base, settings_.floor);
  limit_ = std::max(settings_.floor, before * settings_.decrease);
  step_ = std::max(settings_.floor / 10, before * settings_.increase);
  backing_off_ = true;
  cut_at_ = now;
  raised_at_ = now;
}

void RangeControl::succeeded(Clock::time_point now) {
  if (!backing_off_) return;
  const double seconds = std::chrono::duration<double>(now - raised_at_).count();
  if (seconds < 1) return;
  limit_ += step_ * seconds;
  raised_at_ = now;
  if (ceiling_ > 0 && limit_ >= ceiling_) {
    limit_ = ceiling_;
    backing_off_ = false;
  }
}

}  // namespace backfilld::governor
