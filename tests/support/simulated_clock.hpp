#pragma once
/// Simulated time for unit tests: nothing sleeps; advance() moves both clocks and completes every
/// timer whose deadline passed, in deadline order; run_until_idle() drives an io_context and
/// jumps to the next deadline whenever nothing else is ready.
#include <algorithm>
#include <chrono>
#include <vector>

#include "daemon/common/clock.hpp"

namespace backfilld::testing {

class SimulatedClock final : public common::Clock {
 public:
  std::chrono::system_clock::time_point system_now() const override { return system_; }
  std::chrono::steady_clock::time_point monotonic_now() const override { return monotonic_; }
  std::unique_ptr<common::Timer> make_timer(net::any_io_executor executor) const override {
    return std::make_unique<SimTimer>(const_cast<SimulatedClock&>(*this), std::move(executor));
  }

  /// Moves time forward by `step`, firing due timers in deadline order.
  void advance(std::chrono::steady_clock::duration step) {
    const auto until = monotonic_ + step;
    while (true) {
      SimTimer* next = earliest();
      if (next == nullptr || next->deadline_ > until) break;
      move_to(std::max(next->deadline_, monotonic_));
      next->fire();
    }
    move_to(until);
  }

  /// Timers waiting now.
  std::size_t pending() const { return waiting_.size(); }

  /// When set, a timer that starts waiting has time jump to the earliest deadline at once: for
  /// tests whose io_context also serves real sockets, where "idle" cannot be told.
  bool auto_advance = false;

  /// Polls `io`; while it is idle and timers wait, jumps to the next deadline. False when it
  /// gave up after `limit` jumps.
  bool run_until_idle(net::io_context& io, int limit = 1000000) {
    io.restart();
    io.poll();
    for (int jumps = 0; !waiting_.empty(); ++jumps) {
      if (jumps >= limit) return false;
      advance_to_earliest();
      io.restart();
      io.poll();
    }
    return true;
  }

 private:
  class SimTimer final : public common::Timer {
   public:
    SimTimer(SimulatedClock& clock, net::any_io_executor executor)
        : clock_(clock), timer_(std::move(executor)) {}
    ~SimTimer() override { clock_.forget(this); }
    net::awaitable<boost::system::error_code> wait_until(
        std::chrono::steady_clock::time_point deadline) override {
      if (deadline <= clock_.monotonic_) co_return boost::system::error_code{};
      deadline_ = deadline;
      fired_ = false;
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
      clock_.waiting_.push_back(this);
      if (clock_.auto_advance) {
        net::post(timer_.get_executor(), [&clock = clock_] { clock.advance_to_earliest(); });
      }
      boost::system::error_code ended;
      co_await timer_.async_wait(net::redirect_error(net::use_awaitable, ended));
      clock_.forget(this);
      co_return fired_ ? boost::system::error_code{} : ended;
    }
    void cancel() override {
      clock_.forget(this);
      timer_.cancel();
    }
    void fire() {
      clock_.forget(this);
      fired_ = true;
      timer_.cancel();
    }

    SimulatedClock& clock_;
    net::steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_{};
    bool fired_ = false;
  };

  SimTimer* earliest() const {
    SimTimer* best = nullptr;
    for (SimTimer* timer : waiting_) {
      if (best == nullptr || timer->deadline_ < best->deadline_) best = timer;
    }
    return best;
  }
  void advance_to_earliest() {
    if (SimTimer* next = earliest()) {
      advance(std::max(next->deadline_ - monotonic_, std::chrono::steady_clock::duration{}));
    }
  }
  void forget(SimTimer* timer) { std::erase(waiting_, timer); }
  void move_to(std::chrono::steady_clock::time_point when) {
    system_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(when - monotonic_);
    monotonic_ = when;
  }

  std::chrono::system_clock::time_point system_{
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 29} + std::chrono::hours{12}};
  std::chrono::steady_clock::time_point monotonic_{std::chrono::hours{1}};
  std::vector<SimTimer*> waiting_;
};

}  // namespace backfilld::testing
