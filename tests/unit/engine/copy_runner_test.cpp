// The runner's copy path (copy-container): rewritten documents are upserted into the target
// container keyed by the new partition key; the source is never written; dry runs copy nothing.
#include <doctest/doctest.h>

#include "daemon/engine/container_runner.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/manifest_text.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::engine {
namespace {

struct CopyFixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  SystemClock clock;
  RunSettings settings{.batch_size = 4, .write_concurrency = 2};
  migrations::Manifest manifest = testing::parsed_manifest(
      testing::manifest_text("copy-container",
                             R"({"name": "notes", "partitionKeyPath": "/workspaceId",
      "target": {"name": "notes_by_user", "partitionKeyPath": "/userId"}})",
                             R"(, "stopCriteria": {"maxMissingPartitionKey": 5})"));

  RunOutcome run(migrations::Mode mode, Counts& counts) {
    auto transform = migrations::make_transform(manifest, manifest.containers[0], nullptr);
    REQUIRE(transform.ok());
    ContainerRunner runner(store, **transform,
                           RunTarget{.job_label = "copy/notes",
                                     .container = {"db", "notes"},
                                     .partition_key_path = "/workspaceId",
                                     .product_id = "notelett",
                                     .stop = manifest.stop,
                                     .mode = mode,
                                     .rewritten_name = "copied"},
                           settings, clock);
    const RunOutcome outcome = testing::run_sync(io, runner.run());
    counts = runner.progress().counts;
    return outcome;
  }
};

}  // namespace

TEST_CASE("copy-container upserts every document into the target by its new key") {
  CopyFixture fixture;
  for (int i = 0; i < 9; ++i) {
    fixture.store.put(R"({"id":"n)" + std::to_string(i) + R"(","workspaceId":"w1","userId":"u)" +
                      std::to_string(i % 2) + R"(","productId":"notelett","n":)" +
                      std::to_string(i) + "}");
  }
  fixture.store.put(R"({"id":"orphan","workspaceId":"w1","productId":"notelett"})");
  const std::string source_before = common::to_json(fixture.store.get("n3"));

  Counts counts;
  REQUIRE(fixture.run(migrations::Mode::kDryRun, counts).status == RunStatus::kSucceeded);
  CHECK(counts.rewritten == 9);
  CHECK(counts.missing_partition_key == 1);
  CHECK(fixture.store.upserts == 0);

  REQUIRE(fixture.run(migrations::Mode::kLive, counts).status == RunStatus::kSucceeded);
  CHECK(counts.rewritten == 9);
  CHECK(fixture.store.replaces == 0);  // the source is never written
  CHECK(common::to_json(fixture.store.get("n3")) == source_before);
  const auto& copies = fixture.store.copies["notes_by_user"];
  REQUIRE(copies.size() == 9);
  CHECK(copies.at("n3").key.header == R"(["u1"])");
  CHECK(copies.at("n3").json ==
        R"({"id":"n3","workspaceId":"w1","userId":"u1","productId":"notelett","n":3})");

  // A rerun rewrites the same copies (upsert by id and key): still nine.
  REQUIRE(fixture.run(migrations::Mode::kLive, counts).status == RunStatus::kSucceeded);
  CHECK(fixture.store.copies["notes_by_user"].size() == 9);
  CHECK(fixture.store.upserts == 18);
}

TEST_CASE("a failed copy is an error of that document, and the stop criterion applies") {
  CopyFixture fixture;
  for (int i = 0; i < 3; ++i) {
    fixture.store.put(R"({"id":"n)" + std::to_string(i) +
                      R"(","workspaceId":"w1","userId":"u","productId":"notelett"})");
  }
  fixture.store.fail_upsert = [](const std::string& body) {
    return body.find("\"n1\"") != std::string::npos;
  };
  Counts counts;
  const RunOutcome outcome = fixture.run(migrations::Mode::kLive, counts);
  CHECK(outcome.status == RunStatus::kFailed);
  CHECK(outcome.reason == "stop criterion: errors 1 > maxErrors 0");
  CHECK(counts.errors == 1);
  CHECK(counts.rewritten == 2);
}

}  // namespace backfilld::engine
