// JobManager::restore over a real FileStateStore whose files a disk fault or a hand damaged: the
// damaged jobs are set aside and listed as failed, every other job resumes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "daemon/jobs/job_manager.hpp"
#include "migrations/envelope_fields.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/job_fixtures.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::jobs {
namespace {

namespace fs = std::filesystem;

migrations::Manifest notes_manifest() { return testing::encrypt_manifest({"notes"}); }

struct Fixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  metrics::Metrics metrics;
  engine::SystemClock clock;
  fs::path directory;

  Fixture() {
    std::string pattern = (fs::temp_directory_path() / "backfilld-restore-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    directory = pattern;
    for (int i = 0; i < 5; ++i) {
      store.put(R"({"id":"n)" + std::to_string(i) +
                R"(","ws":"w","userId":"u","productId":"notelett","body":"secret"})");
    }
  }
  ~Fixture() {
    std::error_code ignored;
    fs::remove_all(directory, ignored);
  }

  std::unique_ptr<state::FileStateStore> open_store() {
    auto opened = state::FileStateStore::open(directory);
    REQUIRE_MESSAGE(opened.ok(), opened.error().message);
    return std::move(*opened);
  }
  std::unique_ptr<JobManager> make(state::StateStore& states, std::size_t slots) {
    ManagerOptions options;
    options.max_running_jobs = slots;
    options.default_database = "db";
    return std::make_unique<JobManager>(io.get_executor(), store, states, metrics, clock,
                                        KeyState{}, options);
  }
  void write(const std::string& name, std::string_view text) const {
    std::ofstream(directory / name, std::ios::binary) << text;
  }
  std::string read(const fs::path& path) const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "damaged state files are set aside as failed jobs, the rest resume") {
  std::string good_id;
  {
    auto states = open_store();
    auto old = make(*states, 0);  // queued, never run: the daemon stops before it starts
    auto ids = old->submit(SubmitRequest{notes_manifest(), true, "alice", "", "", std::nullopt});
    REQUIRE_MESSAGE(ids.ok(), ids.error().message);
    good_id = ids->at(0);
  }
  const std::string good = read(directory / (good_id + ".json"));
  std::string deep = R"({"version": 1, "id": "job-000004-cccc", "x": )";
  deep += std::string(100'000, '[') + std::string(100'000, ']') + "}";
  write("job-000002-aaaa.json", good.substr(0, good.size() / 2));  // truncated
  write("job-000003-bbbb.json", std::string("\x00\xff\x13garbage", 10));
  write("job-000004-cccc.json", deep);
  write("job-000006-eeee.json", good);  // another job's record under this name
  std::string bad_knobs = good;         // a value no daemon writes
  const std::size_t concurrency = bad_knobs.find(R"("writeConcurrency":)") + 19;
  bad_knobs.replace(concurrency, bad_knobs.find(',', concurrency) - concurrency, "0");
  bad_knobs.replace(bad_knobs.find(good_id), good_id.size(), "job-000007-ffff");
  write("job-000007-ffff.json", bad_knobs);
  fs::create_directory(directory / "job-000008-abab.json");  // not a file at all
  write(".job-000005-dddd.json.tmp-4242-0", "{\"half");      // a crash's leftover temp file

  auto states = open_store();
  CHECK_FALSE(fs::exists(directory / ".job-000005-dddd.json.tmp-4242-0"));  // cleaned, not loaded
  auto manager = make(*states, 2);
  REQUIRE(manager->restore().ok());

  const std::vector<SetAsideJob>& aside = manager->set_aside_jobs();
  REQUIRE(aside.size() == 6);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"job-000002-aaaa", "invalid JSON at offset"},
      {"job-000003-bbbb", "invalid JSON at offset 0"},
      {"job-000004-cccc", "arrays and objects nested deeper than"},
      {"job-000006-eeee", "is not the file's job id"},
      {"job-000007-ffff", "writeConcurrency: must be an integer from 1 to 256"},
      {"job-000008-abab", "not a regular file"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(aside[i].reason);
    CHECK(aside[i].id == expected[i].first);
    CHECK(aside[i].reason.starts_with("state file cannot be loaded: "));
    CHECK(aside[i].reason.find(expected[i].second) != std::string::npos);
    const fs::path moved = directory / "corrupt" / (expected[i].first + ".json");
    CHECK(aside[i].state_file == moved.string());
    CHECK(fs::exists(moved));
    CHECK_FALSE(fs::exists(directory / (expected[i].first + ".json")));
    CHECK(manager->find(expected[i].first) == nullptr);
    CHECK(manager->find_set_aside(expected[i].first) == &aside[i]);
  }
  CHECK(read(directory / "corrupt" / "job-000004-cccc.json") == deep);  // kept as it was

  // The good job runs to the end.
  REQUIRE(testing::run_until(io, [&] {
    const Job* job = manager->find(good_id);
    return job != nullptr && is_terminal(job->state);
  }));
  CHECK(manager->find(good_id)->state == JobState::kSucceeded);
  CHECK(manager->find(good_id)->progress.counts.scanned == 5);
  CHECK(manager->pause("job-000003-bbbb", "bob").error().code == "conflict");

  // Set aside once: the next start loads the good job only. A second damaged file of the same
  // id keeps the first copy.
  write("job-000002-aaaa.json", "{");
  auto again = make(*states, 0);
  REQUIRE(again->restore().ok());
  REQUIRE(again->set_aside_jobs().size() == 1);
  CHECK(again->set_aside_jobs()[0].state_file ==
        (directory / "corrupt" / "job-000002-aaaa.json.1").string());
  CHECK(again->find(good_id) != nullptr);
}

TEST_CASE_FIXTURE(Fixture, "a state directory that cannot be listed stops the start, named") {
  auto states = open_store();
  fs::remove_all(directory);
  auto manager = make(*states, 0);
  auto restored = manager->restore();
  REQUIRE_FALSE(restored.ok());
  CHECK(restored.error().message.find("cannot list directory " + directory.string()) !=
        std::string::npos);
}

}  // namespace backfilld::jobs
