#include "daemon/engine/rate_limiter.hpp"

#include <doctest/doctest.h>

namespace backfilld::engine {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("an unlimited rate never waits") {
  RateLimiter limiter;
  const auto now = RateLimiter::Clock::time_point(seconds(100));
  CHECK(limiter.spend(1'000'000, 0, now) == RateLimiter::Clock::duration::zero());
}

TEST_CASE("spending faster than the rate waits exactly the excess") {
  RateLimiter limiter;
  auto now = RateLimiter::Clock::time_point(seconds(100));
  // 100 docs/s, burst of one second: the first 100 documents are free, then 50 ms per 5 docs.
  CHECK(limiter.spend(100, 100, now) == RateLimiter::Clock::duration::zero());
  CHECK(limiter.spend(50, 100, now) == milliseconds(500));
  now += milliseconds(500);
  CHECK(limiter.spend(100, 100, now) == seconds(1));
}

TEST_CASE("idle time earns at most the burst") {
  RateLimiter limiter;
  auto now = RateLimiter::Clock::time_point(seconds(100));
  CHECK(limiter.spend(10, 10, now) == RateLimiter::Clock::duration::zero());
  now += seconds(60);  // a long pause earns one second of credit, not sixty
  CHECK(limiter.spend(10, 10, now) == RateLimiter::Clock::duration::zero());
  CHECK(limiter.spend(10, 10, now) == seconds(1));
}

TEST_CASE("lifting the limit forgets the debt") {
  RateLimiter limiter;
  const auto now = RateLimiter::Clock::time_point(seconds(100));
  CHECK(limiter.spend(1000, 10, now) > seconds(90));
  CHECK(limiter.spend(10, 0, now) == RateLimiter::Clock::duration::zero());
  CHECK(limiter.spend(10, 10, now) == RateLimiter::Clock::duration::zero());
}

}  // namespace backfilld::engine
