#include "daemon/cosmos/retry_policy.hpp"

#include <algorithm>

namespace backfilld::cosmos {

std::string_view to_string(RetryCause cause) {
  switch (cause) {
    case RetryCause::kThrottled:
      return "throttled";
    case RetryCause::kRetryWith:
      return "retry_with";
    case RetryCause::kRequestTimeout:
      return "request_timeout";
    case RetryCause::kUnavailable:
      return "unavailable";
    case RetryCause::kGone:
      return "gone";
    case RetryCause::kTransport:
      return "transport";
  }
  return "unknown";
}

std::chrono::milliseconds round_delay(std::chrono::milliseconds retry_after, int rounds) {
  constexpr std::chrono::milliseconds kFirst{100};
  constexpr std::chrono::milliseconds kMost{5'000};
  const auto wait = retry_after > std::chrono::milliseconds::zero()
                        ? retry_after
                        : kFirst * (1 << std::clamp(rounds, 0, 6));
  return std::min(kMost, wait);
}

std::optional<RetryCause> retry_cause(int status) {
  switch (status) {
    case 0:
      return RetryCause::kTransport;
    case 408:
      return RetryCause::kRequestTimeout;
    case 410:
      return RetryCause::kGone;
    case 429:
      return RetryCause::kThrottled;
    case 449:
      return RetryCause::kRetryWith;
    case 503:
      return RetryCause::kUnavailable;
    default:
      return std::nullopt;
  }
}

std::chrono::milliseconds backoff_delay(RetryCause cause,
                                        int retry,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        const RetryOptions& options,
                                        double unit_random) {
  using std::chrono::milliseconds;
  if (cause == RetryCause::kThrottled && retry_after && retry_after->count() >= 0) {
    return std::min(*retry_after, options.max_delay);
  }
  const int doublings = std::clamp(retry - 1, 0, 30);
  const double ceiling = std::min(
      static_cast<double>(options.max_delay.count()),
      static_cast<double>(options.base_delay.count()) * static_cast<double>(1LL << doublings));
  const double fraction = std::clamp(unit_random, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(ceiling * fraction));
}

}  // namespace backfilld::cosmos
