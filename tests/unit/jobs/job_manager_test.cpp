#include "daemon/jobs/job_manager.hpp"

#include <doctest/doctest.h>

#include "daemon/common/json.hpp"
#include "migrations/envelope_fields.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/job_fixtures.hpp"
#include "tests/support/memory_state_store.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::jobs {
namespace {

using testing::run_until;

migrations::Manifest manifest(std::string id = "enc-v1", std::uint64_t max_errors = 0) {
  migrations::Manifest m = testing::encrypt_manifest({"notes", "memories"}, 2, std::move(id));
  m.stop.max_errors = max_errors;
  return m;
}

KeyState keys(bool enabled = true) { return testing::test_keys(enabled); }

struct Fixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MemoryStateStore states;
  metrics::Metrics metrics;
  engine::SystemClock clock;
  ManagerOptions options = testing::test_options();

  Fixture() {
    for (int i = 0; i < 7; ++i) {
      store.put(R"({"id":"n)" + std::to_string(i) +
                R"(","ws":"w","userId":"u","productId":"notelett","body":"secret )" +
                std::to_string(i) + R"("})");
    }
  }

  std::unique_ptr<JobManager> make(KeyState key_state = keys()) {
    return make_on(io, std::move(key_state));
  }
  /// A manager on its own io_context: a "restarted daemon" must not run what the old one left.
  std::unique_ptr<JobManager> make_on(net::io_context& context, KeyState key_state = keys()) {
    return std::make_unique<JobManager>(context.get_executor(), store, states, metrics, clock,
                                        std::move(key_state), options);
  }

  std::vector<std::string> submit(JobManager& manager,
                                  bool dry_run,
                                  std::string container = "",
                                  migrations::Manifest m = manifest()) {
    auto ids = manager.submit(SubmitRequest{.manifest = std::move(m),
                                            .dry_run = dry_run,
                                            .operator_name = "alice",
                                            .backup_confirmed = dry_run ? "" : "pitr-2026-11-24",
                                            .container = std::move(container),
                                            .knobs = std::nullopt});
    REQUIRE_MESSAGE(ids.ok(), ids.error().message);
    return ids.value();
  }

  bool finished(JobManager& manager, const std::vector<std::string>& ids) {
    return run_until(io, [&] {
      return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
        return is_terminal(manager.find(id)->state);
      });
    });
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a manifest becomes one job per container, run in order to success") {
  auto manager = make();
  const auto ids = submit(*manager, true);
  REQUIRE(ids.size() == 2);
  REQUIRE(finished(*manager, ids));
  const Job& notes = *manager->find(ids[0]);
  CHECK(notes.container == "notes");
  CHECK(notes.state == JobState::kSucceeded);
  CHECK(notes.progress.counts.scanned == 7);
  CHECK(notes.progress.counts.rewritten == 7);
  CHECK(notes.estimated_total == 7);
  CHECK(store.replaces == 0);  // dry run
  CHECK(manager->find(ids[1])->sequence > notes.sequence);
  // The final state is persisted.
  auto stored = from_state_json(states.records.at(ids[0]));
  REQUIRE(stored.ok());
  CHECK(stored->state == JobState::kSucceeded);
  CHECK(stored->progress.counts.scanned == 7);
}

TEST_CASE_FIXTURE(Fixture, "the live gate names the condition that failed") {
  SUBCASE("keys disabled") {
    auto manager = make(keys(false));
    auto refused = manager->submit({manifest(), false, "alice", "pitr", "", std::nullopt});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "live_gate");
    CHECK(refused.error().message.find("FIELD_ENCRYPT_ENABLED") != std::string::npos);
  }
  SUBCASE("keys failed to load") {
    auto manager = make(KeyState{nullptr, true, "FIELD_ENCRYPT_KEY is not base64"});
    auto refused = manager->submit({manifest(), false, "alice", "pitr", "", std::nullopt});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("FIELD_ENCRYPT_KEY is not base64") != std::string::npos);
  }
  SUBCASE("no backup attested, then no dry run, then accepted") {
    auto manager = make();
    auto no_backup = manager->submit({manifest(), false, "alice", "", "", std::nullopt});
    REQUIRE_FALSE(no_backup.ok());
    CHECK(no_backup.error().message.find("backupConfirmed") != std::string::npos);
    auto no_dry_run = manager->submit({manifest(), false, "alice", "pitr", "notes", std::nullopt});
    REQUIRE_FALSE(no_dry_run.ok());
    CHECK(no_dry_run.error().message.find("no succeeded dry run") != std::string::npos);
    CHECK(manager->list().empty());  // nothing was created

    const auto dry = submit(*manager, true, "notes");
    REQUIRE(finished(*manager, dry));
    // A dry run of another manifest does not clear this one.
    auto other =
        manager->submit({manifest("enc-v2"), false, "alice", "pitr", "notes", std::nullopt});
    CHECK_FALSE(other.ok());
    const auto live = submit(*manager, false, "notes");
    REQUIRE(finished(*manager, live));
    const Job& job = *manager->find(live[0]);
    CHECK(job.state == JobState::kSucceeded);
    CHECK(job.dry_run_job == dry[0]);
    CHECK(store.replaces == 7);
    CHECK(job.key_provider == "env");
    CHECK(job.key_id == "k1");
  }
}

TEST_CASE_FIXTURE(Fixture, "two jobs never run on one container at once, queued jobs wait") {
  auto manager = make();
  const auto first = submit(*manager, true, "notes");
  const auto second = submit(*manager, true, "notes", manifest("enc-v2"));
  bool overlap = false;
  std::string second_waiting;
  store.on_query = [&](const cosmos::QueryRequest&) {
    const Job& a = *manager->find(first[0]);
    const Job& b = *manager->find(second[0]);
    overlap = overlap || (a.state == JobState::kRunning && b.state == JobState::kRunning);
    if (a.state == JobState::kRunning && second_waiting.empty()) {
      second_waiting = manager->live(b).waiting;
    }
  };
  REQUIRE(finished(*manager, {first[0], second[0]}));
  CHECK_FALSE(overlap);
  CHECK(second_waiting == "queued: another job is running on container notes");
  CHECK(manager->find(second[0])->started_at >= manager->find(first[0])->finished_at);
}

TEST_CASE_FIXTURE(Fixture, "pause stops writes at a batch boundary, resume finishes the job") {
  auto manager = make();
  REQUIRE(finished(*manager, submit(*manager, true, "notes")));
  const auto live = submit(*manager, false, "notes");
  const std::string id = live[0];
  store.on_query = [&](const cosmos::QueryRequest& request) {
    if (request.continuation == "2") REQUIRE(manager->pause(id, "bob").ok());
  };
  REQUIRE(run_until(io, [&] { return manager->find(id)->state == JobState::kPaused; }));
  const int writes_when_paused = store.replaces;
  // Batches of 2; page 2 is prefetched while batch 1 is written: batch 1 finished, no new began.
  CHECK(writes_when_paused == 2);
  CHECK(manager->live(*manager->find(id)).waiting == "paused by an operator");
  CHECK_FALSE(run_until(
      io, [&] { return store.replaces > writes_when_paused; }, 1000));
  auto stored = from_state_json(states.records.at(id));
  CHECK(stored->state == JobState::kPaused);

  CHECK(manager->resume(id, "bob").ok());
  REQUIRE(finished(*manager, live));
  CHECK(manager->find(id)->state == JobState::kSucceeded);
  CHECK(store.replaces == 7);
}

TEST_CASE_FIXTURE(Fixture, "stop ends a job with the operator's name, patch applies at once") {
  for (int i = 7; i < 12; ++i) {
    store.put(R"({"id":"n)" + std::to_string(i) +
              R"(","ws":"w","userId":"u","productId":"notelett","body":"x"})");
  }
  auto manager = make();
  const auto ids = submit(*manager, true, "notes");
  const std::string id = ids[0];
  store.on_query = [&](const cosmos::QueryRequest& request) {
    if (request.continuation == "2") {
      REQUIRE(manager->patch(id, KnobPatch{.batch_size = 3}, "bob").ok());
    }
    if (request.continuation == "4") REQUIRE(manager->stop(id, "carol").ok());
  };
  REQUIRE(finished(*manager, ids));
  const Job& job = *manager->find(id);
  CHECK(job.state == JobState::kStopped);
  CHECK(job.reason == "stopped by operator carol");
  CHECK(job.knobs.batch_size == 3);
  CHECK(store.last_query.max_item_count == 3);
  CHECK(job.progress.counts.scanned == 7);  // 2, 2, then 3 after the patch; then the stop
  CHECK(manager->stop(id, "carol").error().code == "conflict");
  CHECK(manager->patch(id, KnobPatch{.batch_size = 5}, "bob").error().code == "conflict");
}

TEST_CASE_FIXTURE(Fixture, "a running job says when Cosmos throttles it") {
  auto manager = make();
  const auto ids = submit(*manager, true, "notes");
  std::vector<std::string> waiting;
  store.on_query = [&](const cosmos::QueryRequest& request) {
    if (request.continuation == "2") {
      manager->observe_request(cosmos::RequestEvent{.operation = "replace", .status = 429});
    }
    waiting.push_back(manager->live(*manager->find(ids[0])).waiting);
  };
  REQUIRE(finished(*manager, ids));
  REQUIRE(waiting.size() == 4);
  CHECK(waiting[0].empty());
  CHECK(waiting[1] == "Cosmos is throttling (429): retrying after its x-ms-retry-after-ms");
}

TEST_CASE_FIXTURE(Fixture, "raising maxDocumentsPerSecond cuts the pacing wait in progress short") {
  auto manager = make();
  const std::string id = submit(*manager, true, "notes")[0];
  // 1 document per 100 s: after the first batch of 2 the job owes about 200 s.
  REQUIRE(manager->patch(id, KnobPatch{.max_documents_per_second = 0.01}, "bob").ok());
  REQUIRE(run_until(
      io, [&] { return manager->live(*manager->find(id)).waiting.starts_with("rate limit"); }));
  CHECK(manager->live(*manager->find(id)).observed.scanned == 2);
  // Back to 1000/s: the wait in progress ends now, the 2 documents owed take 2 ms at the new
  // rate; the old code kept waiting out the 200 s (run_until gives up after 200 ms idle).
  REQUIRE(manager->patch(id, KnobPatch{.max_documents_per_second = 1000}, "bob").ok());
  REQUIRE(finished(*manager, {id}));
  CHECK(manager->find(id)->state == JobState::kSucceeded);
  CHECK(manager->find(id)->progress.counts.scanned == 7);
}

TEST_CASE_FIXTURE(Fixture, "lowering maxDocumentsPerSecond slows the job within one batch") {
  auto manager = make();
  const std::string id = submit(*manager, true, "notes")[0];
  store.on_query = [&](const cosmos::QueryRequest& request) {
    if (request.continuation == "2") {
      REQUIRE(manager->patch(id, KnobPatch{.max_documents_per_second = 0.01}, "bob").ok());
    }
  };
  CHECK_FALSE(finished(*manager, {id}));
  const JobLive live = manager->live(*manager->find(id));
  CHECK(live.waiting == "rate limit: 0.01 documents/s");
  // The page prefetched when the PATCH came may still be processed; none after it.
  CHECK(live.observed.scanned <= 4);
  // A stop ends the wait at once.
  REQUIRE(manager->stop(id, "carol").ok());
  REQUIRE(finished(*manager, {id}));
  CHECK(manager->find(id)->state == JobState::kStopped);
}

TEST_CASE_FIXTURE(Fixture, "sustained throttling slows a live job down and never fails it") {
  auto manager = make();  // the manifest's maxErrors is 0
  REQUIRE(finished(*manager, submit(*manager, true, "notes")));
  const auto ids = submit(*manager, false, "notes");
  int requests = 0;
  std::vector<std::string> waiting;
  store.throttle_request = [&](std::string_view) {
    if (requests % 10 == 5) waiting.push_back(manager->live(*manager->find(ids[0])).waiting);
    return ++requests <= 60 ? 429 : 0;
  };
  store.throttle_in_batch = [&](const std::string&) { return requests <= 80 ? 429 : 0; };
  REQUIRE(finished(*manager, ids));
  const Job& job = *manager->find(ids[0]);
  CHECK_MESSAGE(job.state == JobState::kSucceeded, job.reason);
  CHECK(job.progress.counts.errors == 0);
  CHECK(job.progress.counts.rewritten == 7);
  CHECK(store.replaces == 7);
  // Throttled batches are not split into single writes: the one single write is the last
  // page's lone document, which goes single anyway.
  CHECK(store.single_writes == 1);
  CHECK(std::any_of(waiting.begin(), waiting.end(), [](const std::string& text) {
    return text.starts_with("throttled by Cosmos (429");
  }));
}

TEST_CASE_FIXTURE(Fixture, "a pause ends a throttled wait at once; resume continues, no errors") {
  auto manager = make();
  REQUIRE(finished(*manager, submit(*manager, true, "notes")));
  const auto ids = submit(*manager, false, "notes");
  const std::string id = ids[0];
  bool throttling = true;
  // Every request from the third batch's writes on answers 429 until the test says otherwise.
  store.throttle_request = [&](std::string_view) {
    return throttling && store.replaces >= 4 ? 429 : 0;
  };
  REQUIRE(run_until(io, [&] {
    return manager->live(*manager->find(id)).waiting.starts_with("throttled by Cosmos");
  }));
  REQUIRE(manager->pause(id, "bob").ok());
  REQUIRE(run_until(io, [&] { return manager->find(id)->state == JobState::kPaused; }));
  const Job& paused = *manager->find(id);
  CHECK(paused.progress.counts.errors == 0);
  CHECK(paused.progress.counts.scanned == 4);  // the interrupted batch is not checkpointed
  CHECK(from_state_json(states.records.at(id))->progress.ranges.at(0).continuation == "4");

  throttling = false;
  REQUIRE(manager->resume(id, "bob").ok());
  REQUIRE(finished(*manager, ids));
  const Job& job = *manager->find(id);
  CHECK_MESSAGE(job.state == JobState::kSucceeded, job.reason);
  CHECK(job.progress.counts.errors == 0);
  CHECK(job.progress.counts.rewritten == 7);
  CHECK(store.replaces == 7);
}

TEST_CASE_FIXTURE(Fixture, "a scrape sees the writes in flight, none once the job ended") {
  auto manager = make();
  const auto ids = submit(*manager, true, "notes");
  REQUIRE(finished(*manager, ids));
  const auto live = submit(*manager, false, "notes");
  const std::string series = "backfilld_inflight_writes{container=\"notes\",job_id=\"" + live[0] +
                             "\",migration=\"enc-v1\"}";
  std::vector<std::string> during;
  store.before_replace = [&](const std::string&) {
    manager->sample_metrics();
    const std::string text = metrics.serialize();
    const auto at = text.find(series);
    during.push_back(at == std::string::npos ? "absent" : text.substr(at + series.size() + 1, 1));
  };
  REQUIRE(finished(*manager, live));
  REQUIRE(during.size() == 7);
  // Each write is in flight while the store handles it (batches of 2, written concurrently).
  for (const std::string& value : during) CHECK((value == "1" || value == "2"));
  store.before_replace = nullptr;
  manager->sample_metrics();
  CHECK(metrics.serialize().find(series + " 0") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "bad knobs and unknown jobs are refused") {
  auto manager = make();
  const auto ids = submit(*manager, true, "notes");
  CHECK(manager->patch(ids[0], KnobPatch{.batch_size = 0}, "bob").error().code ==
        "invalid_request");
  CHECK(manager->patch(ids[0], KnobPatch{.write_concurrency = 1000}, "bob").error().code ==
        "invalid_request");
  CHECK(manager->patch(ids[0], KnobPatch{.max_documents_per_second = -1}, "bob").error().code ==
        "invalid_request");
  CHECK(manager->pause("job-nope", "bob").error().code == "not_found");
  CHECK(manager->submit({manifest(), true, "", "", "", std::nullopt}).error().code ==
        "invalid_request");  // no operator
  CHECK(manager->submit({manifest(), true, "alice", "", "nope", std::nullopt}).error().code ==
        "invalid_request");  // unknown container
  CHECK(manager->submit({manifest(), true, "alice", "", "notes", std::nullopt}).error().code ==
        "conflict");  // the same job is already queued
}

TEST_CASE_FIXTURE(Fixture, "shutdown checkpoints a running job, a new daemon resumes it") {
  std::vector<std::string> ids;
  {
    auto manager = make();
    REQUIRE(finished(*manager, submit(*manager, true, "notes")));
    ids = submit(*manager, false, "notes");
    bool shut_down = false;
    store.on_query = [&](const cosmos::QueryRequest& request) {
      if (request.continuation == "4") {
        manager->begin_shutdown();
        shut_down = true;
      }
    };
    REQUIRE(run_until(
        io, [&] { return shut_down && manager->find(ids[0])->state == JobState::kQueued; }));
    store.on_query = nullptr;
    auto stored = from_state_json(states.records.at(ids[0]));
    REQUIRE(stored.ok());
    CHECK(stored->state == JobState::kQueued);
    // Page "4" is prefetched while the batch before it is written: that batch was finished
    // and checkpointed before the run ended; the prefetched page was not processed.
    CHECK(stored->progress.ranges.at(0).continuation == "4");
    CHECK(stored->progress.counts.scanned == 4);
    CHECK(store.replaces == 4);
  }
  auto restarted = make();
  REQUIRE(restarted->restore().ok());
  REQUIRE(finished(*restarted, ids));
  const Job& job = *restarted->find(ids[0]);
  CHECK(job.state == JobState::kSucceeded);
  CHECK(job.progress.counts.scanned == 7);  // counts add up across the restart
  CHECK(job.progress.counts.rewritten == 7);
  CHECK(store.replaces == 7);  // nothing written twice
}

TEST_CASE_FIXTURE(Fixture, "a paused job stays paused across a restart") {
  std::string id;
  {
    // The old daemon: its io_context is never run again, like a killed process.
    net::io_context old_io;
    auto manager = make_on(old_io);
    id = submit(*manager, true, "notes")[0];
    REQUIRE(manager->pause(id, "bob").ok());
    REQUIRE(manager->patch(id, KnobPatch{.write_mode = engine::WriteMode::kSingle}, "bob").ok());
    CHECK(manager->find(id)->state == JobState::kPaused);
    manager.reset();
  }
  auto restarted = make();
  REQUIRE(restarted->restore().ok());
  CHECK(restarted->find(id)->state == JobState::kPaused);
  CHECK(restarted->find(id)->knobs.write_mode == engine::WriteMode::kSingle);
  CHECK_FALSE(run_until(
      io, [&] { return restarted->find(id)->state != JobState::kPaused; }, 1000));
  REQUIRE(restarted->resume(id, "bob").ok());
  REQUIRE(finished(*restarted, {id}));
  CHECK(restarted->find(id)->state == JobState::kSucceeded);
}

}  // namespace backfilld::jobs

namespace backfilld::jobs {

TEST_CASE_FIXTURE(Fixture, "only admitted jobs start, and each run's end is reported") {
  std::string admitted;
  std::vector<std::string> ended;
  options.admit = [&](const Job& job) { return job.id == admitted; };
  options.on_run_ended = [&](const Job& job) { ended.push_back(job.id); };
  auto manager = make();
  const auto ids = submit(*manager, true);
  REQUIRE(ids.size() == 2);
  CHECK_FALSE(run_until(
      io, [&] { return manager->find(ids[0])->state != JobState::kQueued; }, 1000));
  admitted = ids[1];  // the later one first: admission, not submission order, decides
  manager->schedule();
  REQUIRE(finished(*manager, {ids[1]}));
  CHECK(manager->find(ids[0])->state == JobState::kQueued);
  CHECK(ended == std::vector<std::string>{ids[1]});
  CHECK(manager->check({manifest(), true, "alice", "", "notes", std::nullopt}).error().code ==
        "conflict");  // check() refuses what submit() would, and creates nothing
  CHECK(manager->list().size() == 2);
  admitted = ids[0];
  manager->schedule();
  REQUIRE(finished(*manager, ids));
  CHECK(ended == std::vector<std::string>{ids[1], ids[0]});
}

}  // namespace backfilld::jobs
