#pragma once
/// Adaptive backoff of one partition key range (AIMD, as the SDKs' bulk executors do it): a 429
/// cuts the range's request-unit limit by a factor, every clean second adds a step back, up to
/// the range's ceiling (its share of the budget or of the provisioned throughput). A range that
/// has never been throttled and has no ceiling is not limited. Pure: time is passed in.
#include <chrono>
#include <cstdint>
#include <optional>

namespace backfilld::governor {

struct AimdSettings {
  double decrease = 0.7;   ///< the limit is multiplied by this on a 429
  double increase = 0.02;  ///< per clean second, this fraction of the limit before the cut
  double floor = 1;        ///< RU/s: a range never stops entirely
  std::chrono::milliseconds settle{1000};  ///< 429s this soon after a cut are the same burst
};

class RangeControl {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RangeControl(AimdSettings settings = {}) : settings_(settings) {}

  /// The range's limit in RU/s now: 0 means none (never throttled, no ceiling).
  double limit() const { return limit_; }
  /// The most the range may take (0: no ceiling); a limit above it comes down at once.
  void set_ceiling(double ceiling);
  /// A 429 answered at `now`; `observed` is the range's spending rate just before (what the
  /// range could take), the service's hint says how long nothing should be sent.
  void throttled(Clock::time_point now,
                 double observed,
                 std::optional<std::chrono::milliseconds> retry_after);
  /// A request answered without throttling at `now`: clean seconds raise the limit.
  void succeeded(Clock::time_point now);
  /// Until when the service asked for quiet (x-ms-retry-after-ms).
  Clock::time_point quiet_until() const { return quiet_until_; }
  /// 429s seen, and whether the range is below its ceiling because of them.
  std::uint64_t throttles() const { return throttles_; }
  bool backing_off() const { return backing_off_; }

 private:
  AimdSettings settings_;
  double ceiling_ = 0;
  double limit_ = 0;
  double step_ = 0;  ///< RU/s added per clean second since the last cut
  bool backing_off_ = false;
  std::uint64_t throttles_ = 0;
  Clock::time_point cut_at_{};
  Clock::time_point raised_at_{};
  Clock::time_point quiet_until_{};
};

}  // namespace backfilld::governor
