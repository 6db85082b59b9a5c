#include "daemon/governor/budget.hpp"

#include <algorithm>

namespace backfilld::governor {

std::int64_t UsageMeter::second_of(Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

void UsageMeter::add(double units, Clock::time_point now) {
  const std::int64_t second = second_of(now);
  const std::size_t slot = static_cast<std::size_t>(second) % kSeconds;
  if (second_[slot] != second) {
    second_[slot] = second;
    units_[slot] = 0;
  }
  units_[slot] += units;
  total_ += units;
}

double UsageMeter::per_second(Clock::time_point now, Clock::duration window) const {
  const auto seconds = std::clamp<std::int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(window).count(), 1, kSeconds - 1);
  // Whole seconds before the current one: the current second is still filling.
  const std::int64_t current = second_of(now);
  double sum = 0;
  for (std::int64_t second = current - seconds; second < current; ++second) {
    const std::size_t slot = static_cast<std::size_t>(second) % kSeconds;
    if (second_[slot] == second) sum += units_[slot];
  }
  return sum / static_cast<double>(seconds);
}

void Budget::set_rate(double per_second, Clock::time_point now) {
  rate_ = std::max(0.0, per_second);
  limiter_.wait(rate_, now, kBurst);
}

Budget::Clock::duration Budget::wait(Clock::time_point now) {
  return limiter_.wait(rate_, now, kBurst);
}

void Budget::spend(double units, Clock::time_point now) {
  limiter_.spend(units, rate_, now, kBurst);
  usage_.add(units, now);
}

}  // namespace backfilld::governor
