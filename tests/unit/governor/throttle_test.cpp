#include "daemon/governor/throttle.hpp"

#include <doctest/doctest.h>

#include "daemon/governor/throttle_watcher.hpp"

namespace backfilld::governor {
namespace {

using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

TEST_CASE("the strongest signal decides: pause over slow, then the oldest") {
  ThrottleBoard board;
  const TimePoint t0(seconds(1'800'000'000));
  CHECK(board.strongest() == nullptr);
  CHECK(board.raise({ThrottleSource::kQuery, ThrottleLevel::kSlow, "app 429s", t0, {}}));
  CHECK(board.strongest()->level == ThrottleLevel::kSlow);
  CHECK(board.raise(
      {ThrottleSource::kFlagFile, ThrottleLevel::kPause, "f exists", t0 + seconds(5), {}}));
  CHECK(board.strongest()->source == ThrottleSource::kFlagFile);
  // Raised again at the same level: unchanged, and `since` keeps its first time.
  CHECK_FALSE(board.raise(
      {ThrottleSource::kFlagFile, ThrottleLevel::kPause, "f exists", t0 + seconds(9), {}}));
  CHECK(board.strongest()->since == t0 + seconds(5));
  CHECK(board.lift(ThrottleSource::kFlagFile));
  CHECK(board.strongest()->source == ThrottleSource::kQuery);
  CHECK_FALSE(board.lift(ThrottleSource::kApi));
}

TEST_CASE("a signal with an expiry lifts itself") {
  ThrottleBoard board;
  const TimePoint t0(seconds(1'800'000'000));
  board.raise({ThrottleSource::kApi, ThrottleLevel::kPause, "deploy", t0, t0 + seconds(60)});
  CHECK_FALSE(board.expire(t0 + seconds(59)));
  CHECK(board.strongest() != nullptr);
  CHECK(board.expire(t0 + seconds(60)));
  CHECK(board.strongest() == nullptr);
  const std::string line = ThrottleBoard::describe(
      {ThrottleSource::kApi, ThrottleLevel::kSlow, "deploy (by ana)", t0, t0 + seconds(60)});
  CHECK(line.starts_with("slow by the API: deploy (by ana) (since "));
  CHECK(line.find(", until ") != std::string::npos);
}

TEST_CASE("a query's value maps to slow at the threshold and pause at the critical one") {
  ThrottleWatchSettings settings;
  settings.threshold = 0.01;
  settings.critical = 0.05;
  CHECK_FALSE(level_for(0.009, settings));
  CHECK(level_for(0.01, settings) == ThrottleLevel::kSlow);
  CHECK(level_for(0.05, settings) == ThrottleLevel::kPause);
  CHECK_FALSE(level_for(std::nan(""), settings));  // no data: no signal
}

TEST_CASE("Prometheus answers: a scalar, one sample, no sample; several series are refused") {
  auto vector = parse_query_answer(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"0.25"]}]}})");
  REQUIRE(vector);
  CHECK(**vector == doctest::Approx(0.25));
  auto scalar =
      parse_query_answer(R"({"status":"success","data":{"resultType":"scalar","result":[1,"3"]}})");
  REQUIRE(scalar);
  CHECK(**scalar == 3);
  auto empty =
      parse_query_answer(R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  REQUIRE(empty);
  CHECK_FALSE(empty->has_value());
  auto several = parse_query_answer(
      R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}})");
  REQUIRE_FALSE(several);
  CHECK(several.error().message.find("2 series") != std::string::npos);
  auto refused = parse_query_answer(R"({"status":"error","error":"parse error at char 5"})");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("parse error") != std::string::npos);
  CHECK_FALSE(parse_query_answer("<html>"));
}

TEST_CASE("throttle settings are checked, each error naming its option") {
  ThrottleWatchSettings settings;
  CHECK(validate(settings));
  settings.query = "sum(rate(app_throttled_total[1m]))";
  CHECK(validate(settings).error().message.find("--throttle-prometheus-url") != std::string::npos);
  settings.prometheus_url = "https://prom:9090";
  CHECK(validate(settings).error().message.find("http://") != std::string::npos);
  settings.prometheus_url = "http://prom:9090/prefix/";
  CHECK(validate(settings).error().message.find("--throttle-threshold") != std::string::npos);
  settings.threshold = 0.05;
  settings.critical = 0.01;
  CHECK(validate(settings).error().message.find("critical") != std::string::npos);
  settings.critical = 0.1;
  CHECK(validate(settings));
}

}  // namespace
}  // namespace backfilld::governor
