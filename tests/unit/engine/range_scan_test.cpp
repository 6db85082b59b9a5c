// The engine range by range: parallel scans of a container's partition key ranges, splits
// followed into their children, resumes from per-range checkpoints, refused continuations.
#include <doctest/doctest.h>

#include <map>
#include <numeric>

#include "daemon/engine/container_runner.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/mark_secret.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::engine {
namespace {

using migrations::Mode;

struct Fixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MarkSecret transform;
  SystemClock clock;
  RunSettings settings{.batch_size = 5, .write_concurrency = 2, .range_concurrency = 4};

  RunTarget target() {
    return RunTarget{.job_label = "test/notes",
                     .container = {"db", "notes"},
                     .partition_key_path = "/ws",
                     .product_id = std::nullopt,
                     .stop = {1000, 1000, 1000},
                     .mode = Mode::kLive,
                     .rewritten_name = "encrypted"};
  }

  /// `count` plain notes over `count / 2` workspaces: spread over every range.
  void seed(int count) {
    for (int i = 0; i < count; ++i) {
      store.put(R"({"id":"n)" + std::to_string(i) + R"(","ws":"w)" + std::to_string(i / 2) +
                R"(","owner":"u","secret":"abc"})");
    }
  }

  RunOutcome run(ContainerRunner& runner) { return testing::run_sync(io, runner.run()); }

  /// Writes per document id: each must be written exactly once.
  std::map<std::string, int> writes;
  void count_writes() {
    store.before_replace = [this](const std::string& id) { ++writes[id]; };
  }

  static std::uint64_t scanned_by_ranges(const Progress& progress) {
    return std::accumulate(
        progress.ranges.begin(), progress.ranges.end(), std::uint64_t{0},
        [](std::uint64_t sum, const RangePosition& p) { return sum + p.scanned; });
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "every range is scanned pinned, in parallel, each document once") {
  store.ranges.reset(4);
  seed(120);
  count_writes();
  ContainerRunner runner(store, transform, target(), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  const Progress& progress = runner.progress();
  CHECK(progress.counts.scanned == 120);
  CHECK(progress.counts.rewritten == 120);
  CHECK(writes.size() == 120);
  for (const auto& written : writes) CHECK_MESSAGE(written.second == 1, written.first);
  REQUIRE(progress.ranges.size() == 4);
  for (const RangePosition& position : progress.ranges) {
    CHECK(position.finished);
    CHECK(position.scanned > 0);  // the notes spread over all four
    CHECK(store.pinned_queries[position.range_id] > 0);
  }
  CHECK(scanned_by_ranges(progress) == 120);
  CHECK(progress.finished);
  CHECK(runner.active_ranges().empty());
}

TEST_CASE_FIXTURE(Fixture, "a range that splits mid-scan continues in its children") {
  store.ranges.reset(2);
  seed(100);
  count_writes();
  // After range 0's second page, it splits: its next query answers 410/1002.
  store.on_query = [&](const cosmos::QueryRequest& request) {
    if (request.partition_key_range_id == "0" && store.pinned_queries["0"] == 2) {
      REQUIRE(store.ranges.split("0"));
    }
  };
  ContainerRunner runner(store, transform, target(), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  const Progress& progress = runner.progress();
  CHECK(progress.counts.scanned == 100);
  CHECK(writes.size() == 100);
  for (const auto& written : writes) CHECK_MESSAGE(written.second == 1, written.first);
  REQUIRE(progress.ranges.size() == 4);  // 0 (split), its children 2 and 3, and 1
  CHECK(progress.ranges[0].range_id == "0");
  CHECK(progress.ranges[0].split_into == std::vector<std::string>{"2", "3"});
  CHECK(progress.ranges[0].finished);
  CHECK(store.pinned_queries["2"] > 0);
  CHECK(store.pinned_queries["3"] > 0);
  CHECK(scanned_by_ranges(progress) == 100);  // the per-range figures add up across the split
}

TEST_CASE_FIXTURE(Fixture, "a resume after a crash during a split goes on from the checkpoint") {
  store.ranges.reset(2);
  seed(80);
  count_writes();
  // The first run is cut (as by SIGKILL) after range 0's first batch: only the checkpoint
  // taken then survives. Meanwhile range 0 splits.
  std::optional<Progress> checkpoint;
  RunHooks hooks{.before_batch = [&]() -> net::awaitable<bool> { co_return !checkpoint; },
                 .after_batch =
                     [&](const Progress& progress, const BatchReport& report) {
                       if (report.range_id == "0" && !checkpoint) checkpoint = progress;
                     },
                 .interrupted = [&] { return checkpoint.has_value(); }};
  {
    ContainerRunner first(store, transform, target(), settings, clock, hooks);
    CHECK(run(first).status == RunStatus::kStopped);
  }
  REQUIRE(checkpoint);
  REQUIRE(store.ranges.split("0"));
  ContainerRunner second(store, transform, target(), settings, clock, {}, *checkpoint);
  REQUIRE(run(second).status == RunStatus::kSucceeded);
  // Every note encrypted; a note written by the first run after its checkpoint is read again
  // and skipped (already encrypted), never encrypted twice.
  for (int i = 0; i < 80; ++i) {
    CHECK(store.get("n" + std::to_string(i))["secret"].IsObject());
  }
  CHECK(writes.size() == 80);
  for (const auto& written : writes) CHECK_MESSAGE(written.second == 1, written.first);
  const Progress& progress = second.progress();
  CHECK(progress.ranges[0].split_into.size() == 2);
  CHECK(progress.finished);
  CHECK(progress.counts.scanned >= 80);  // at least once; re-read documents count again
}

TEST_CASE_FIXTURE(Fixture,
                  "a checkpoint from before range scans resumes its cross-partition query") {
  store.ranges.reset(4);
  seed(20);
  Progress legacy;
  legacy.ranges.emplace_back().continuation = "10";
  legacy.batches = 2;
  legacy.counts = Counts(transform.fields().size());
  ContainerRunner runner(store, transform, target(), settings, clock, {}, legacy);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(runner.progress().counts.scanned == 10);  // from document 10 on
  CHECK(store.pinned_queries.empty());
  CHECK_FALSE(store.last_query.partition_key_range_id.has_value());
}

TEST_CASE_FIXTURE(Fixture,
                  "a refused continuation restarts its range, and nothing is written twice") {
  store.ranges.reset(2);
  seed(40);
  count_writes();
  bool refused = false;
  store.throttle_request = [&](std::string_view operation) {
    if (operation == "query" && !refused && !store.last_query.continuation.empty() &&
        store.queries > 4) {
      refused = true;
      return 400;
    }
    return 0;
  };
  ContainerRunner runner(store, transform, target(), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(refused);
  CHECK(writes.size() == 40);
  for (const auto& written : writes) CHECK_MESSAGE(written.second == 1, written.first);
}

TEST_CASE_FIXTURE(Fixture, "rangeConcurrency 1 scans one range at a time, in EPK order") {
  store.ranges.reset(3);
  seed(60);
  settings.range_concurrency = 1;
  std::vector<std::string> order;
  store.on_query = [&](const cosmos::QueryRequest& request) {
    if (order.empty() || order.back() != *request.partition_key_range_id) {
      order.push_back(*request.partition_key_range_id);
    }
  };
  ContainerRunner runner(store, transform, target(), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(order == std::vector<std::string>{"0", "1", "2"});
  CHECK(runner.progress().counts.scanned == 60);
}

}  // namespace backfilld::engine
