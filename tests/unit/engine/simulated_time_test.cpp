/// Pacing and query backoff of a ContainerRunner on simulated time: nothing sleeps.
#include <doctest/doctest.h>

#include "daemon/common/time_format.hpp"
#include "daemon/engine/container_runner.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/mark_secret.hpp"
#include "tests/support/simulated_clock.hpp"

namespace backfilld::engine {
namespace {

struct SimFixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MarkSecret transform;
  testing::SimulatedClock clock;
  RunSettings settings{.batch_size = 10, .write_concurrency = 2, .max_conflict_retries = 3};
  std::optional<RunOutcome> outcome;

  RunTarget target() {
    return RunTarget{.job_label = "test/notes",
                     .container = {"db", "notes"},
                     .partition_key_path = "/ws",
                     .product_id = "notelett",
                     .stop = {10, 10, 10},
                     .mode = migrations::Mode::kLive,
                     .rewritten_name = "encrypted"};
  }

  void seed(int plain) {
    for (int i = 0; i < plain; ++i) {
      store.put(R"({"id":"p)" + std::to_string(i) + R"(","ws":"w1","owner":"u","secret":"abc"})");
    }
  }

  /// Starts `runner` on `io` without running anything yet.
  void start(ContainerRunner& runner) {
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { outcome.emplace(co_await runner.run()); },
        [](std::exception_ptr failure) {
          if (failure) std::rethrow_exception(failure);
        });
  }
};

}  // namespace

TEST_CASE_FIXTURE(SimFixture,
                  "a 10 documents/s job over 100 documents takes ~10 s of simulated time") {
  seed(100);
  settings.max_documents_per_second = 10;
  ContainerRunner runner(store, transform, target(), settings, clock);
  const auto simulated_start = clock.monotonic_now();
  const auto real_start = std::chrono::steady_clock::now();
  start(runner);
  REQUIRE(clock.run_until_idle(io));
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == RunStatus::kSucceeded);
  CHECK(runner.progress().counts.rewritten == 100);
  const auto simulated = clock.monotonic_now() - simulated_start;
  // 100 documents at 10/s: 10 s, less the first second's burst credit, and the last batch's
  // debt is not waited out (nothing follows it): 8 s.
  CHECK(simulated >= std::chrono::seconds(8));
  CHECK(simulated <= std::chrono::seconds(10));
  // Simulated: ten seconds of pacing cost next to no real time.
  CHECK(std::chrono::steady_clock::now() - real_start < std::chrono::seconds(2));
}

TEST_CASE_FIXTURE(SimFixture,
                  "a query throttled five times with retry-after 4 s succeeds after exactly 20 s") {
  seed(3);
  store.retry_after = std::chrono::milliseconds(4'000);
  int throttles = 5;
  store.throttle_request = [&](std::string_view operation) {
    return operation == "query" && throttles-- > 0 ? 429 : 0;
  };
  ContainerRunner runner(store, transform, target(), settings, clock);
  const auto simulated_start = clock.monotonic_now();
  const std::string since = common::iso8601(clock.system_now());
  start(runner);
  io.poll();
  // Held back by the first 429: the status says since when, on the simulated wall clock.
  REQUIRE(clock.pending() == 1);
  CHECK(runner.waiting_reason().find("429 throttled on query") != std::string::npos);
  CHECK(runner.waiting_reason().find("since " + since + ",") != std::string::npos);
  for (int retry = 0; retry < 3; ++retry) {  // three retries in, the since stays put
    clock.advance(std::chrono::seconds(4));
    io.restart();
    io.poll();
  }
  CHECK(runner.waiting_reason().find("since " + since + ", 4 retries") != std::string::npos);
  REQUIRE(clock.run_until_idle(io));
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == RunStatus::kSucceeded);
  CHECK(store.throttled == 5);
  CHECK(runner.progress().counts.rewritten == 3);
  CHECK(clock.monotonic_now() - simulated_start == std::chrono::seconds(20));
}

}  // namespace backfilld::engine
