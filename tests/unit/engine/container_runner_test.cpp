#include "daemon/engine/container_runner.hpp"

#include <doctest/doctest.h>

#include "tests/support/fake_document_store.hpp"
#include "tests/support/mark_secret.hpp"
#include "tests/support/run_sync.hpp"
#include "tests/support/simulated_clock.hpp"

namespace backfilld::engine {
namespace {

using migrations::FieldOutcome;
using migrations::Mode;
using migrations::Outcome;
using migrations::TransformResult;

struct Fixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MarkSecret transform;
  SystemClock clock;
  RunSettings settings{.batch_size = 3, .write_concurrency = 2, .max_conflict_retries = 3};

  RunTarget target(Mode mode, migrations::StopCriteria stop = {10, 10, 10}) {
    return RunTarget{.job_label = "test/notes",
                     .container = {"db", "notes"},
                     .partition_key_path = "/ws",
                     .product_id = "notelett",
                     .stop = stop,
                     .mode = mode,
                     .rewritten_name = "encrypted"};
  }

  void seed(int plain, int done = 0, int missing_key = 0, int no_owner = 0) {
    int n = 0;
    for (int i = 0; i < plain; ++i) {
      store.put(R"({"id":"p)" + std::to_string(n++) +
                R"(","ws":"w1","owner":"u","secret":"abc","n":1.5})");
    }
    for (int i = 0; i < done; ++i) {
      store.put(R"({"id":"d)" + std::to_string(n++) +
                R"(","ws":"w1","owner":"u","secret":{"__encrypted":true}})");
    }
    for (int i = 0; i < missing_key; ++i) {
      store.put(R"({"id":"k)" + std::to_string(n++) + R"(","owner":"u","secret":"abc"})");
    }
    for (int i = 0; i < no_owner; ++i) {
      store.put(R"({"id":"o)" + std::to_string(n++) + R"(","ws":"w2","secret":"abc"})");
    }
  }

  RunOutcome run(ContainerRunner& runner) { return testing::run_sync(io, runner.run()); }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a dry run counts everything and writes nothing") {
  seed(5, 2, 1, 1);
  ContainerRunner runner(store, transform, target(Mode::kDryRun), settings, clock);
  const RunOutcome outcome = run(runner);
  CHECK(outcome.status == RunStatus::kSucceeded);
  CHECK(store.replaces == 0);
  const Counts& counts = runner.progress().counts;
  CHECK(counts.scanned == 9);
  CHECK(counts.rewritten == 5);
  CHECK(counts.skipped == 2);
  CHECK(counts.missing_partition_key == 1);
  CHECK(counts.owner_mismatch == 1);
  CHECK(counts.fields[0] == FieldCounts{5, 2, 0});
  CHECK(runner.progress().batches == 3);
  CHECK(runner.progress().finished);
  CHECK(store.get("p0")["secret"].IsString());
  // The productId filter is part of the query.
  CHECK(store.last_query.query.find("c.productId = @productId") != std::string::npos);
  CHECK(store.last_query.parameters_json == R"([{"name":"@productId","value":"notelett"}])");
}

TEST_CASE_FIXTURE(Fixture,
                  "a live run rewrites exactly the documents that need it, with If-Match") {
  seed(5, 2, 1, 1);
  ContainerRunner runner(store, transform, target(Mode::kLive), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(store.replaces == 5);
  CHECK(store.conflicts == 0);
  for (int i = 0; i < 5; ++i) {
    const auto document = store.get("p" + std::to_string(i));
    CHECK(document["secret"]["__encrypted"].GetBool());
    CHECK(document["n"].GetDouble() == 1.5);
  }
  CHECK(store.get("k7")["secret"].IsString());  // missing partition key: untouched
  CHECK(store.get("o8")["secret"].IsString());  // no owner: untouched
  CHECK(store.last_key["p0"].header == R"(["w1"])");
  CHECK(runner.progress().counts.rewritten == 5);

  SUBCASE("a second live run rewrites nothing and skips everything it may touch") {
    ContainerRunner again(store, transform, target(Mode::kLive), settings, clock);
    REQUIRE(run(again).status == RunStatus::kSucceeded);
    CHECK(store.replaces == 5);
    CHECK(again.progress().counts.rewritten == 0);
    CHECK(again.progress().counts.skipped == 7);
  }
}

TEST_CASE_FIXTURE(Fixture, "a concurrent application write wins, then gets migrated (412 path)") {
  seed(3);
  bool app_wrote = false;
  store.before_replace = [&](const std::string& id) {
    if (id == "p1" && !app_wrote) {
      app_wrote = true;  // the app updates p1 between our read and our write
      store.put(R"({"id":"p1","ws":"w1","owner":"u","secret":"app's new text","edited":true})");
    }
  };
  ContainerRunner runner(store, transform, target(Mode::kLive), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(store.conflicts == 1);
  CHECK(store.reads == 1);
  const auto p1 = store.get("p1");
  CHECK(p1["edited"].GetBool());               // the app's write survived
  CHECK(p1["secret"]["was"].GetUint() == 14);  // and its new value was migrated
  CHECK(runner.progress().counts.rewritten == 3);
  CHECK(runner.progress().counts.errors == 0);
}

TEST_CASE_FIXTURE(Fixture, "a write whose answer was lost is recognised and counted once") {
  seed(3);
  int lost = 0;
  store.lose_ack = [&](const std::string& id) { return id == "p1" && lost++ == 0; };
  settings.write_mode = WriteMode::kSingle;
  ContainerRunner runner(store, transform, target(Mode::kLive), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(lost == 1);
  CHECK(store.reads == 1);     // the 412 was re-read
  CHECK(store.replaces == 3);  // and not written again
  CHECK(store.get("p1")["secret"]["was"].GetUint() == 3);
  CHECK(runner.progress().counts.rewritten == 3);  // ours, not "skipped"
  CHECK(runner.progress().counts.skipped == 0);
}

TEST_CASE_FIXTURE(Fixture,
                  "an application that already migrated the value leaves nothing to write") {
  seed(1);
  store.before_replace = [&](const std::string&) {
    store.put(R"({"id":"p0","ws":"w1","owner":"u","secret":{"__encrypted":true,"by":"app"}})");
  };
  ContainerRunner runner(store, transform, target(Mode::kLive), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(store.replaces == 0);
  CHECK(store.get("p0")["secret"]["by"] == "app");
  CHECK(runner.progress().counts.skipped == 1);
}

TEST_CASE_FIXTURE(Fixture, "a document that keeps changing is an error after the retry budget") {
  seed(1);
  int edits = 0;
  store.before_replace = [&](const std::string&) {
    store.put(R"({"id":"p0","ws":"w1","owner":"u","secret":"edit )" + std::to_string(++edits) +
              R"("})");
  };
  ContainerRunner runner(store, transform, target(Mode::kLive), settings, clock);
  REQUIRE(run(runner).status == RunStatus::kSucceeded);
  CHECK(store.conflicts == settings.max_conflict_retries + 1);
  CHECK(runner.progress().counts.errors == 1);
  CHECK(runner.progress().counts.fields[0].errors == 1);
}

TEST_CASE_FIXTURE(Fixture, "a stop criterion fails the run before the crossing batch is written") {
  seed(3, 0, 0, 0);
  seed(0, 0, 0, 2);  // ids o0, o1: two documents without an owner, in the second batch
  settings.batch_size = 3;
  ContainerRunner runner(store, transform, target(Mode::kLive, {0, 1, 0}), settings, clock);
  const RunOutcome outcome = run(runner);
  CHECK(outcome.status == RunStatus::kFailed);
  CHECK(outcome.reason == "stop criterion: ownerMismatch 2 > maxOwnerMismatch 1");
  CHECK(runner.progress().batches == 1);  // the checkpoint stays before the crossing batch
  CHECK(runner.observed().owner_mismatch == 2);
}

TEST_CASE_FIXTURE(Fixture, "failed writes are errors and trip maxErrors after their batch") {
  seed(4);
  store.fail_replace = [](const std::string& id) { return id == "p1"; };
  ContainerRunner runner(store, transform, target(Mode::kLive, {0, 0, 0}), settings, clock);
  const RunOutcome outcome = run(runner);
  CHECK(outcome.status == RunStatus::kFailed);
  CHECK(outcome.reason == "stop criterion: errors 1 > maxErrors 0");
  CHECK(runner.progress().counts.errors == 1);
  CHECK(runner.progress().counts.rewritten == 2);
  CHECK(store.get("p1")["secret"].IsString());
}

TEST_CASE_FIXTURE(Fixture,
                  "hooks see every batch, can stop the run, and a run resumes from progress") {
  seed(7);
  std::vector<std::string> continuations;
  RunHooks hooks{
      .before_batch = [&]() -> net::awaitable<bool> { co_return continuations.size() < 2; },
      .after_batch =
          [&](const Progress& progress, const BatchReport& report) {
            REQUIRE(progress.ranges.size() == 1);
            continuations.push_back(progress.ranges.front().continuation);
            CHECK(report.counts.scanned == 3);
          },
      .interrupted = [&] { return continuations.size() >= 2; }};
  ContainerRunner first(store, transform, target(Mode::kLive), settings, clock, hooks);
  const RunOutcome stopped = run(first);
  CHECK(stopped.status == RunStatus::kStopped);
  CHECK(continuations == std::vector<std::string>{"3", "6"});
  CHECK(store.replaces == 6);

  ContainerRunner second(store, transform, target(Mode::kLive), settings, clock, {},
                         first.progress());
  REQUIRE(run(second).status == RunStatus::kSucceeded);
  CHECK(store.replaces == 7);
  CHECK(second.progress().counts.scanned == 7);  // counts add up across the restart
  CHECK(second.progress().counts.rewritten == 7);
  CHECK(store.last_query.continuation == "6");
}

}  // namespace backfilld::engine

namespace backfilld::engine {

TEST_CASE_FIXTURE(Fixture, "a rate limit paces batches, says so, and a wake cuts the wait short") {
  seed(9);
  settings.batch_size = 3;
  settings.max_documents_per_second = 0.5;  // 3 documents cost 6 s of simulated time
  bool stop = false;
  RunHooks hooks{.before_batch = [&]() -> net::awaitable<bool> { co_return !stop; },
                 .after_batch = {},
                 .interrupted = [&] { return stop; }};
  testing::SimulatedClock simulated;
  ContainerRunner runner(store, transform, target(Mode::kLive), settings, simulated, hooks);
  std::optional<RunOutcome> outcome;
  net::co_spawn(
      io, [&]() -> net::awaitable<void> { outcome.emplace(co_await runner.run()); }, net::detached);
  io.poll();
  // The first batch ran; the runner waits for the rate limit, and says so.
  REQUIRE_FALSE(outcome.has_value());
  REQUIRE(simulated.pending() == 1);
  CHECK(runner.waiting_reason() == "rate limit: 0.5 documents/s");
  CHECK(runner.progress().batches == 1);
  // A stop and a wake end the wait with no (simulated) time passing.
  const auto before = simulated.monotonic_now();
  stop = true;
  runner.wake();
  io.restart();
  io.poll();
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == RunStatus::kStopped);
  CHECK(runner.progress().batches == 1);
  CHECK(simulated.monotonic_now() == before);
  CHECK(simulated.pending() == 0);
}

}  // namespace backfilld::engine
