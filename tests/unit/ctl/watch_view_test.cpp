#include "daemon/ctl/watch_view.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/common/json.hpp"

namespace backfilld::ctl {
namespace {

rapidjson::Document parse(std::string_view text) {
  auto parsed = common::parse_json(text);
  REQUIRE(parsed);
  return std::move(*parsed);
}

bool contains(const std::vector<std::string>& lines, std::string_view text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

// A running live job half way, limited by its rate: one range split into two, one of them done.
constexpr std::string_view kRunningJob = R"({
  "id": "j-0001", "container": "notes", "kind": "encrypt-fields", "dryRun": false,
  "state": "running", "reason": null,
  "progress": {"scanned": 1200, "batches": 12, "estimatedTotal": 2400, "ratio": 0.5,
    "ranges": [
      {"id": "0", "minInclusive": "", "maxExclusive": "FF", "finished": false, "scanned": 100,
       "batches": 1, "splitInto": ["1", "2"], "active": false},
      {"id": "1", "minInclusive": "", "maxExclusive": "7F", "finished": true, "scanned": 700,
       "batches": 7, "active": false},
      {"id": "2", "minInclusive": "7F", "maxExclusive": "FF", "finished": false, "scanned": 400,
       "batches": 4, "active": true}]},
  "ratePerSecond": 312.4, "etaSeconds": 187.2, "waiting": "rate limit"
})";

TEST_CASE("progress_bar fills in proportion, clamps, and shows an unknown ratio as ?") {
  CHECK(progress_bar(0.0, 10) == "[----------]");
  CHECK(progress_bar(0.5, 10) == "[#####-----]");
  CHECK(progress_bar(0.99, 10) == "[#########-]");  // not full before the end
  CHECK(progress_bar(1.0, 10) == "[##########]");
  CHECK(progress_bar(1.7, 4) == "[####]");
  CHECK(progress_bar(-1.0, 4) == "[----]");
  CHECK(progress_bar(std::nullopt, 4) == "[????]");
}

TEST_CASE("format_eta reads as people read durations") {
  CHECK(format_eta(std::nullopt) == "-");
  CHECK(format_eta(-3.0) == "-");
  CHECK(format_eta(0.4) == "0s");
  CHECK(format_eta(45.0) == "45s");
  CHECK(format_eta(187.2) == "3m 07s");
  CHECK(format_eta(7500.0) == "2h 05m");
  CHECK(format_eta(3 * 86400.0 + 4 * 3600.0 + 10) == "3d 04h");
}

TEST_CASE("format_rate abbreviates thousands and millions") {
  CHECK(format_rate(0) == "0/s");
  CHECK(format_rate(312.4) == "312/s");
  CHECK(format_rate(12500) == "12.5k/s");
  CHECK(format_rate(1.3e6) == "1.3M/s");
}

TEST_CASE("a running job's block: title, bar with percent, rate, ETA, waiting reason, ranges") {
  const auto job = parse(kRunningJob);
  const auto lines = render_job(job, ViewStyle{.bar_width = 10});
  REQUIRE(lines.size() >= 3);
  CHECK(lines[0] == "j-0001  notes  encrypt-fields  live  running");
  CHECK(lines[1] == "  [#####-----]  50.0%  1200/2400 docs  312/s  ETA 3m 07s");
  CHECK(lines[2] == "  waiting: rate limit");
  // The split range is left out, its children shown: one done, one being scanned.
  CHECK_FALSE(contains(lines, "range 0 "));
  CHECK(contains(lines, "range 1"));
  CHECK(contains(lines, "[00, 7F)"));
  CHECK(contains(lines, "[##########]  700 scanned, 7 batches  done"));
  CHECK(contains(lines, "range 2"));
  CHECK(contains(lines, "[7F, FF)"));
  // Half the key space of 2400 documents: 400 of about 1200 scanned, a third of its bar.
  CHECK(contains(lines, "[###-------]  400 scanned, 4 batches  scanning"));
  CHECK(lines.back() == "  (1 range split into the ones above)");
}

TEST_CASE("a range's bar: never full before it finishes, unknown without an estimate") {
  const auto job = parse(R"({"id": "r", "state": "running", "progress": {"scanned": 900,
    "estimatedTotal": 1000, "ratio": 0.9, "ranges": [{"id": "0", "minInclusive": "",
    "maxExclusive": "FF", "finished": false, "scanned": 1500, "batches": 9, "active": true}]}})");
  CHECK(contains(render_job(job, ViewStyle{}), "[#########-]  1500 scanned"));
  const auto unknown = parse(R"({"id": "u", "state": "running", "progress": {"scanned": 5,
    "estimatedTotal": null, "ratio": null, "ranges": [{"id": "0", "minInclusive": "",
    "maxExclusive": "FF", "finished": false, "scanned": 5, "batches": 1, "active": true}]}})");
  CHECK(contains(render_job(unknown, ViewStyle{}), "[??????????]  5 scanned"));
}

TEST_CASE("without colour no escape codes; with it the state is coloured") {
  const auto job = parse(kRunningJob);
  for (const auto& line : render_job(job, ViewStyle{}))
    CHECK(line.find('\x1b') == std::string::npos);
  const auto colored = render_job(job, ViewStyle{.color = true});
  CHECK(colored[0].find("\x1b[36mrunning\x1b[0m") != std::string::npos);
}

TEST_CASE("a queued job with no estimate yet and a failed job's reason") {
  const auto queued = parse(R"json({"id": "q", "state": "queued", "dryRun": true,
    "progress": {"scanned": 0, "batches": 0, "estimatedTotal": null, "ratio": null,
    "ranges": []}, "ratePerSecond": 0, "etaSeconds": null,
    "waiting": "queued behind a limit (2 running)"})json");
  const auto lines = render_job(queued, ViewStyle{.bar_width = 4});
  CHECK(lines[0] == "q  dry run  queued");
  CHECK(lines[1] == "  [????]  0 docs  0/s  ETA -");
  CHECK(lines[2] == "  waiting: queued behind a limit (2 running)");
  CHECK(lines.size() == 3);

  const auto failed = parse(R"({"id": "f", "state": "failed", "reason": "maxErrors 0 exceeded"})");
  CHECK(contains(render_job(failed, ViewStyle{}), "  reason: maxErrors 0 exceeded"));
}

TEST_CASE("a frame names the daemon and the job count, a blank line between blocks") {
  const auto jobs = parse(R"([{"id": "a", "state": "succeeded"}, {"id": "b", "state": "paused"}])");
  const auto lines = render_frame(jobs, "http://127.0.0.1:8080", ViewStyle{});
  CHECK(lines[0] == "backfilld at http://127.0.0.1:8080: 2 jobs");
  CHECK(lines[1].empty());
  CHECK(lines[2].starts_with("a  succeeded"));
  CHECK(contains(lines, "b  paused"));
  const auto none = parse("[]");
  CHECK(render_frame(none, "http://x:1", ViewStyle{}) ==
        std::vector<std::string>{"backfilld at http://x:1: 0 jobs"});
}

}  // namespace
}  // namespace backfilld::ctl
