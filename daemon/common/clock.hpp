#pragma once
/// Time as a seam (Envoy's TimeSource): timestamps, rates, ETAs and every wait (pacing, retry
/// backoff, shutdown grace) go through a Clock, so tests drive them on simulated time.
#include <chrono>
#include <memory>

#include "daemon/common/asio.hpp"

namespace backfilld::common {

/// A one-shot timer of a Clock; reusable, one wait at a time.
class Timer {
 public:
  virtual ~Timer() = default;
  /// Waits until `deadline` (monotonic): success, or operation_aborted when cancel() ends it.
  virtual net::awaitable<boost::system::error_code> wait_until(
      std::chrono::steady_clock::time_point deadline) = 0;
  /// Ends the wait in progress, if any, with operation_aborted.
  virtual void cancel() = 0;
};

/// Where time comes from.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Wall-clock time, for timestamps people read.
  virtual std::chrono::system_clock::time_point system_now() const = 0;
  /// Monotonic time, for durations and rates.
  virtual std::chrono::steady_clock::time_point monotonic_now() const = 0;
  /// A timer on this clock's monotonic time, completing on `executor`.
  virtual std::unique_ptr<Timer> make_timer(net::any_io_executor executor) const = 0;
  /// Waits `delay` on a new timer (no cancel: for waits nothing needs to end early).
  net::awaitable<boost::system::error_code> sleep_for(
      net::any_io_executor executor, std::chrono::steady_clock::duration delay) const {
    std::unique_ptr<Timer> timer = make_timer(executor);
    const auto deadline = monotonic_now() + delay;
    co_return co_await timer->wait_until(deadline);
  }
};

/// A Timer on net::steady_timer.
class SteadyTimer final : public Timer {
 public:
  /// A timer completing on `executor`.
  explicit SteadyTimer(net::any_io_executor executor) : timer_(std::move(executor)) {}
  net::awaitable<boost::system::error_code> wait_until(
      std::chrono::steady_clock::time_point deadline) override {
    timer_.expires_at(deadline);
    boost::system::error_code ended;
    co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ended));
    co_return ended;
  }
  void cancel() override { timer_.cancel(); }

 private:
  net::steady_timer timer_;
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
  std::unique_ptr<Timer> make_timer(net::any_io_executor executor) const override {
    return std::make_unique<SteadyTimer>(std::move(executor));
  }
};

/// The process-wide real clock, for callers given no other.
inline const Clock& real_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace backfilld::common
