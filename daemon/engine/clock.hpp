#pragma once
/// Time as a seam (Envoy's TimeSource): rates, ETAs and timestamps are testable without sleeping.
#include <chrono>

namespace backfilld::engine {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time, for timestamps people read.
  virtual std::chrono::system_clock::time_point system_now() const = 0;
  /// Monotonic time, for durations and rates.
  virtual std::chrono::steady_clock::time_point monotonic_now() const = 0;
};

/// The real clocks.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point system_now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point monotonic_now() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace backfilld::engine
