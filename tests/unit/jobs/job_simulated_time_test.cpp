/// A job's live rate, ETA and waiting text on simulated time: nothing sleeps.
#include <doctest/doctest.h>

#include "daemon/common/time_format.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "migrations/envelope_fields.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/job_fixtures.hpp"
#include "tests/support/memory_state_store.hpp"
#include "tests/support/simulated_clock.hpp"

namespace backfilld::jobs {
namespace {

struct SimFixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MemoryStateStore states;
  metrics::Metrics metrics;
  testing::SimulatedClock clock;
  ManagerOptions options = testing::test_options({.batch_size = 10,
                                                  .write_concurrency = 2,
                                                  .max_conflict_retries = 3,
                                                  .max_documents_per_second = 10});

  SimFixture() {
    for (int i = 0; i < 100; ++i) {
      store.put(R"({"id":"n)" + std::to_string(i) +
                R"(","ws":"w","userId":"u","productId":"notelett","body":"secret"})");
    }
  }

  std::unique_ptr<JobManager> make() {
    return std::make_unique<JobManager>(io.get_executor(), store, states, metrics, clock,
                                        testing::test_keys(), options);
  }

  /// A dry run of the notes container; its job id.
  std::string submit(JobManager& manager) {
    migrations::Manifest m = testing::encrypt_manifest({"notes"}, 10);
    auto ids = manager.submit(SubmitRequest{.manifest = std::move(m),
                                            .dry_run = true,
                                            .operator_name = "alice",
                                            .backup_confirmed = "",
                                            .container = "",
                                            .knobs = std::nullopt});
    REQUIRE_MESSAGE(ids.ok(), ids.error().message);
    return ids.value().at(0);
  }

  /// Lets `seconds` of simulated time pass, one second at a time.
  void pass(int seconds) {
    for (int i = 0; i < seconds; ++i) {
      clock.advance(std::chrono::seconds(1));
      io.restart();
      io.poll();
    }
  }
};

}  // namespace

TEST_CASE_FIXTURE(SimFixture, "a paced job's live rate and ETA follow simulated time exactly") {
  auto manager = make();
  const std::string id = submit(*manager);
  io.poll();
  pass(5);
  const Job& job = *manager->find(id);
  REQUIRE(job.state == JobState::kRunning);
  REQUIRE(job.estimated_total == 100);
  const JobLive live = manager->live(job);
  const double scanned = static_cast<double>(live.observed.scanned);
  // 10 documents/s plus the first second's burst, no wall clock involved.
  CHECK(live.observed.scanned >= 50);
  CHECK(live.observed.scanned <= 70);
  CHECK(live.rate_per_second == doctest::Approx(scanned / 5.0));
  REQUIRE(live.eta_seconds.has_value());
  CHECK(*live.eta_seconds == doctest::Approx((100.0 - scanned) / (scanned / 5.0)));
  CHECK(live.waiting == "rate limit: 10 documents/s");
  REQUIRE(clock.run_until_idle(io));
  CHECK(job.state == JobState::kSucceeded);
}

TEST_CASE_FIXTURE(SimFixture, "a throttled job's waiting text has the simulated since") {
  options.default_knobs.max_documents_per_second = 0;
  store.retry_after = std::chrono::milliseconds(4'000);
  int throttles = 3;
  store.throttle_request = [&](std::string_view operation) {
    return operation == "query" && throttles-- > 0 ? 429 : 0;
  };
  auto manager = make();
  const std::string id = submit(*manager);
  io.poll();
  const std::string since = common::iso8601(clock.system_now());
  pass(1);
  const JobLive live = manager->live(*manager->find(id));
  CHECK(live.waiting.find("429 throttled on query") != std::string::npos);
  CHECK(live.waiting.find("since " + since + ",") != std::string::npos);
  REQUIRE(clock.run_until_idle(io));
  CHECK(manager->find(id)->state == JobState::kSucceeded);
}

}  // namespace backfilld::jobs
