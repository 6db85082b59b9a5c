#include "daemon/governor/rate_limiter.hpp"

#include <doctest/doctest.h>

namespace backfilld::governor {

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

TEST_CASE("raising the rate during a wait cuts the wait to the debt at the new rate") {
  RateLimiter limiter;
  auto now = RateLimiter::Clock::time_point(seconds(100));
  // 1 doc/s: a batch of 51 documents owes 50 documents, 50 seconds.
  CHECK(limiter.spend(51, 1, now) == seconds(50));
  now += seconds(2);  // two seconds of the wait pass at 1/s: 48 documents still owed
  // At 1000/s the 48 documents owed take 48 ms, not the 48 s left of the old wait.
  CHECK(std::chrono::round<milliseconds>(limiter.wait(1000, now)) == milliseconds(48));
  now += milliseconds(48);
  CHECK(limiter.wait(1000, now) < std::chrono::microseconds(1));
  // The next batch is paced at the new rate only.
  CHECK(std::chrono::round<milliseconds>(limiter.spend(50, 1000, now)) == milliseconds(50));
}

TEST_CASE("lowering the rate slows the next batch at once") {
  RateLimiter limiter;
  auto now = RateLimiter::Clock::time_point(seconds(100));
  CHECK(limiter.spend(500, 1000, now) == RateLimiter::Clock::duration::zero());
  // The credit earned at 1000/s shrinks to one second at 2/s; 10 documents owe 4 seconds.
  CHECK(limiter.spend(10, 2, now) == seconds(4));
  // The wait in progress lengthens when the rate drops further.
  CHECK(limiter.wait(1, now) == seconds(8));
  now += seconds(8);
  CHECK(limiter.wait(1, now) == RateLimiter::Clock::duration::zero());
}

TEST_CASE("a wait recomputed without a change of rate keeps counting down") {
  RateLimiter limiter;
  auto now = RateLimiter::Clock::time_point(seconds(100));
  CHECK(limiter.spend(30, 10, now) == seconds(2));
  now += milliseconds(500);
  CHECK(limiter.wait(10, now) == milliseconds(1500));
  CHECK(limiter.wait(0, now) == RateLimiter::Clock::duration::zero());  // limit lifted
}

}  // namespace backfilld::governor
