// The kind-specific parts of a job's stored state and status: count names and check figures.
#include "daemon/jobs/job_codec.hpp"

#include <doctest/doctest.h>

#include "daemon/common/json.hpp"
#include "tests/support/manifest_text.hpp"

namespace backfilld::jobs {

TEST_CASE("a verify job keeps its plaintext counts and check figures across a restart") {
  Job job;
  job.id = "job-000001-abcd";
  job.manifest = testing::parsed_manifest(testing::manifest_text(
      "verify", R"({"name": "notes", "partitionKeyPath": "/workspaceId", "fields": ["body"],
      "context": "notes", "userIdField": "userId"})"));
  job.container = "notes";
  job.database = "db";
  job.state = JobState::kFailed;
  job.reason = "verification failed: body: 2 plaintext";
  job.progress.counts = engine::Counts(1);
  job.progress.counts.scanned = 10;
  job.progress.counts.fields[0] = {7, 1, 0, 2};
  job.checks = {{{"plaintext.body", 2}, {"undecryptable.body", 0}}, job.reason};

  auto restored = from_state_json(to_state_json(job));
  REQUIRE(restored.ok());
  CHECK(restored->checks == job.checks);
  CHECK(restored->progress.counts == job.progress.counts);

  rapidjson::Document status;
  JobLive live;
  live.observed = restored->progress.counts;
  to_status_json(*restored, live, status, status.GetAllocator());
  CHECK(common::to_json(status["counts"]["fields"]) ==
        R"({"body":{"verified":7,"skipped":1,"errors":0,"plaintext":2}})");
  CHECK(common::to_json(status["checks"]) ==
        R"({"figures":{"plaintext.body":2,"undecryptable.body":0},)"
        R"("failure":"verification failed: body: 2 plaintext"})");
}

}  // namespace backfilld::jobs
