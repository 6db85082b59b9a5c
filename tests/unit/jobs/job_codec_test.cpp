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

TEST_CASE("a state file holding what no daemon writes is refused, naming the member") {
  Job job;
  job.id = "job-000001-abcd";
  job.manifest = testing::parsed_manifest(testing::manifest_text(
      "verify", R"({"name": "notes", "partitionKeyPath": "/workspaceId", "fields": ["body"],
      "context": "notes", "userIdField": "userId"})"));
  job.container = "notes";
  job.progress.counts = engine::Counts(1);
  REQUIRE(from_state_json(to_state_json(job)).ok());

  const auto refusal = [&](Job changed) {
    auto restored = from_state_json(to_state_json(changed));
    REQUIRE_FALSE(restored.ok());
    CHECK(restored.error().code == "invalid_state");
    return restored.error().message;
  };
  Job bad = job;
  bad.progress.ranges.emplace_back().continuation =
      "{\"token\":\"x\"}\r\nx-ms-documentdb-isquery: false";
  CHECK(refusal(bad) == "ranges: continuation: must not hold control characters");
  bad = job;
  bad.knobs.batch_size = 0;
  CHECK(refusal(bad) == "batchSize: must be an integer from 1 to 1000");
  bad = job;
  bad.knobs.write_concurrency = 100'000;
  CHECK(refusal(bad) == "writeConcurrency: must be an integer from 1 to 256");
  bad = job;
  bad.knobs.max_request_units_per_second = -1;
  CHECK(refusal(bad) == "maxRequestUnitsPerSecond: must be 0 (no limit) or more");
  // A state file nests the manifest one level down, so it may use kMaxJsonDepth + 1 levels.
  const auto nested = [](std::size_t arrays) {  // an object around `arrays` levels of arrays
    return R"({"version": 1, "x": )" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  auto deep = from_state_json(nested(common::kMaxJsonDepth));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message.find("invalid JSON") == std::string::npos);  // parsed; no manifest
  auto deeper = from_state_json(nested(common::kMaxJsonDepth + 1));
  REQUIRE_FALSE(deeper.ok());
  CHECK(deeper.error().message.find("nested deeper than 257 levels") != std::string::npos);
}

}  // namespace backfilld::jobs
