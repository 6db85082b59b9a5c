#include "daemon/governor/budget.hpp"

#include <doctest/doctest.h>

#include "daemon/governor/range_control.hpp"

namespace backfilld::governor {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = Budget::Clock::time_point;

TEST_CASE("a budget admits a reservation and makes the next wait for what it cost") {
  Budget budget;
  TimePoint now(seconds(100));
  budget.set_rate(400, now);
  // A new budget has at most 100 ms of credit (40 RU): no burst at the start of a job.
  CHECK(budget.wait(now) == Budget::Clock::duration::zero());
  budget.spend(440, now);  // a reservation of 440 RU: one second beyond the credit
  CHECK(budget.wait(now) == seconds(1));
  // The request cost less than reserved: the refund shortens the wait at once.
  budget.spend(-200, now);
  CHECK(budget.wait(now) == milliseconds(500));
}

TEST_CASE("a budget spent flat out averages its rate") {
  Budget budget;
  TimePoint now(seconds(100));
  budget.set_rate(400, now);
  const TimePoint start = now;
  double spent = 0;
  while (now - start < seconds(30)) {
    now += budget.wait(now);
    budget.spend(37.5, now);  // the size of a small query page or a few replaces
    spent += 37.5;
  }
  const double seconds_run = std::chrono::duration<double>(now - start).count();
  CHECK(spent / seconds_run == doctest::Approx(400).epsilon(0.01));
  CHECK(budget.usage().per_second(now, seconds(10)) == doctest::Approx(400).epsilon(0.05));
}

TEST_CASE("the usage meter forgets seconds older than a minute") {
  UsageMeter meter;
  TimePoint now(seconds(1000));
  meter.add(100, now);
  CHECK(meter.per_second(now + seconds(1), seconds(1)) == doctest::Approx(100));
  CHECK(meter.per_second(now + seconds(70), seconds(10)) == 0);
  CHECK(meter.total() == 100);
}

TEST_CASE("a 429 cuts a range's limit once per burst, clean seconds raise it back") {
  RangeControl control;
  TimePoint now(seconds(100));
  control.set_ceiling(100);
  CHECK(control.limit() == 100);
  control.throttled(now, 100, milliseconds(250));
  CHECK(control.limit() == doctest::Approx(70));
  CHECK(control.backing_off());
  CHECK(control.quiet_until() == now + milliseconds(250));
  // The other requests in flight when the first 429 came: the same burst, no second cut.
  control.throttled(now + milliseconds(100), 70, {});
  CHECK(control.limit() == doctest::Approx(70));
  CHECK(control.throttles() == 2);
  // 2% of the limit before the cut per clean second: 15 s back to the ceiling, not beyond.
  control.succeeded(now + seconds(5));
  CHECK(control.limit() == doctest::Approx(80));
  control.succeeded(now + seconds(30));
  CHECK(control.limit() == 100);
  CHECK_FALSE(control.backing_off());
}

TEST_CASE("a range without a ceiling is unlimited until a 429, then starts from what it took") {
  RangeControl control;
  TimePoint now(seconds(100));
  control.set_ceiling(0);
  CHECK(control.limit() == 0);
  control.throttled(now, 300, {});
  CHECK(control.limit() == doctest::Approx(210));
  // A lowered ceiling (the budget was PATCHed down) applies at once, backing off or not.
  control.set_ceiling(50);
  CHECK(control.limit() == 50);
}

}  // namespace
}  // namespace backfilld::governor
