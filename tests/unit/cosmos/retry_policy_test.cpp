#include "daemon/cosmos/retry_policy.hpp"

#include <doctest/doctest.h>

namespace backfilld::cosmos {

using std::chrono::milliseconds;

TEST_CASE("transient statuses are retried with their cause, final ones are not") {
  CHECK(retry_cause(429) == RetryCause::kThrottled);
  CHECK(retry_cause(449) == RetryCause::kRetryWith);
  CHECK(retry_cause(408) == RetryCause::kRequestTimeout);
  CHECK(retry_cause(503) == RetryCause::kUnavailable);
  CHECK(retry_cause(410) == RetryCause::kGone);
  CHECK(retry_cause(0) == RetryCause::kTransport);
  for (int final_status : {200, 201, 400, 401, 403, 404, 409, 412, 413, 500}) {
    CHECK_FALSE(retry_cause(final_status).has_value());
  }
}

TEST_CASE("a 429 waits what the server asked, capped") {
  RetryOptions options;
  options.max_delay = milliseconds(1000);
  CHECK(backoff_delay(RetryCause::kThrottled, 1, milliseconds(37), options, 0.9) ==
        milliseconds(37));
  CHECK(backoff_delay(RetryCause::kThrottled, 1, milliseconds(90'000), options, 0.9) ==
        milliseconds(1000));
}

TEST_CASE("without a server hint the backoff is jittered, exponential and capped") {
  RetryOptions options;
  options.base_delay = milliseconds(100);
  options.max_delay = milliseconds(1000);
  // The ceiling doubles per retry: 100, 200, 400, 800, then the cap.
  CHECK(backoff_delay(RetryCause::kUnavailable, 1, std::nullopt, options, 0.999) ==
        milliseconds(99));
  CHECK(backoff_delay(RetryCause::kUnavailable, 3, std::nullopt, options, 0.999) ==
        milliseconds(399));
  CHECK(backoff_delay(RetryCause::kUnavailable, 9, std::nullopt, options, 0.999) ==
        milliseconds(999));
  CHECK(backoff_delay(RetryCause::kTransport, 60, std::nullopt, options, 0.5) == milliseconds(500));
  // Full jitter: the low end reaches zero so synchronized clients spread out.
  CHECK(backoff_delay(RetryCause::kRetryWith, 4, std::nullopt, options, 0.0) == milliseconds(0));
  // A 429 without a hint falls back to backoff.
  CHECK(backoff_delay(RetryCause::kThrottled, 2, std::nullopt, options, 0.5) == milliseconds(100));
}

TEST_CASE("the engine's own rounds wait the server's hint, else 100 ms doubling, 5 s at most") {
  CHECK(round_delay(milliseconds(0), 0) == milliseconds(100));
  CHECK(round_delay(milliseconds(0), 1) == milliseconds(200));
  CHECK(round_delay(milliseconds(0), 5) == milliseconds(3'200));
  CHECK(round_delay(milliseconds(0), 6) == milliseconds(5'000));      // 6,400 capped
  CHECK(round_delay(milliseconds(0), 1'000) == milliseconds(5'000));  // no overflow
  CHECK(round_delay(milliseconds(0), -3) == milliseconds(100));
  CHECK(round_delay(milliseconds(750), 4) == milliseconds(750));  // the hint wins
  CHECK(round_delay(milliseconds(60'000), 0) == milliseconds(5'000));
}

}  // namespace backfilld::cosmos
