// Every schema-change kind end to end against the real local server: the NoteLett manifests'
// shapes, run as the daemon runs a job (checks before, the container runner, checks after).
#include <doctest/doctest.h>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/client.hpp"
#include "daemon/crypto/envelope.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/run_checks.hpp"
#include "migrations/transform.hpp"
#include "tests/support/local_cosmos.hpp"
#include "tests/support/manifest_text.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::engine {
namespace {

using migrations::Mode;
using testing::run_sync;

cosmos::PartitionKey key_of(const std::string& value) {
  return cosmos::PartitionKey::of(
      rapidjson::Value(rapidjson::StringRef(value.data(), value.size())));
}

crypto::KeyBytes key_bytes(unsigned char fill) {
  crypto::KeyBytes key{};
  key.fill(fill);
  return key;
}

struct RunResult {
  RunOutcome outcome;
  Counts counts;
  CheckReport checks;

  std::uint64_t figure(std::string_view name) const {
    for (const auto& [key, value] : checks.figures) {
      if (key == name) return value;
    }
    FAIL("no figure " << name);
    return 0;
  }
};

/// One fresh database on the local server, and a job run as the daemon runs one.
struct Harness {
  net::io_context io;
  std::unique_ptr<cosmos::Client> client;
  std::string database = testing::unique_name("schema");

  Harness() {
    auto created =
        cosmos::Client::create(io.get_executor(), testing::local_cosmos().client_options());
    REQUIRE(created.ok());
    client = std::move(*created);
    REQUIRE(run_sync(io, client->create_database(database)).ok());
  }

  void create(const std::string& container, const std::string& key_path) {
    REQUIRE(run_sync(io, client->create_container(database, container, key_path)).ok());
  }
  void put(const std::string& container, const std::string& key, const std::string& json) {
    const cosmos::ContainerRef ref{database, container};
    auto ack = run_sync(io, client->upsert_document(ref, key_of(key), json));
    REQUIRE_MESSAGE(ack.ok(), (ack.ok() ? "" : cosmos::describe(ack.error())));
  }
  rapidjson::Document read(const std::string& container,
                           const std::string& id,
                           const std::string& key) {
    const cosmos::ContainerRef ref{database, container};
    auto read = run_sync(io, client->read_document(ref, id, key_of(key)));
    REQUIRE_MESSAGE(read.ok(), id);
    return std::move(read->document);
  }

  RunResult run(const std::string& manifest_text,
                Mode mode,
                const crypto::Keyring* keyring = nullptr) {
    const migrations::Manifest manifest = testing::parsed_manifest(manifest_text);
    const migrations::ContainerSpec& spec = manifest.containers.at(0);
    auto transform = migrations::make_transform(manifest, spec, keyring, crypto::random_iv,
                                                "2026-11-24T12:00:00.000Z");
    REQUIRE_MESSAGE(transform.ok(), (transform.ok() ? "" : transform.error().message));
    SystemClock clock;
    RunSettings settings{.batch_size = 7, .write_concurrency = 4};
    ContainerRunner runner(*client, **transform,
                           RunTarget{.job_label = manifest.id,
                                     .container = {database, spec.name},
                                     .partition_key_path = spec.partition_key_path,
                                     .product_id = manifest.product_id,
                                     .stop = manifest.stop,
                                     .mode = mode,
                                     .rewritten_name = "rewritten"},
                           settings, clock);
    const CheckTarget target{manifest, spec, database, mode};
    RunResult result;
    result.outcome = run_sync(io, run_with_checks(*client, runner, target, result.checks));
    result.counts = runner.observed();
    return result;
  }
};

std::string ws(int i) { return "ws-" + std::to_string(i % 3); }

/// 20 notes: even ones carry tags; every fifth already has labels (the app dual-writes); two
/// documents of another product that no kind may touch.
void seed_notes(Harness& h) {
  h.create("notes", "/workspaceId");
  for (int i = 0; i < 20; ++i) {
    std::string json = R"({"id":"note-)" + std::to_string(i) + R"(","workspaceId":")" + ws(i) +
                       R"(","userId":"u-)" + std::to_string(i % 4) +
                       R"(","productId":"notelett","createdAt":"2026-01-01T00:00:00.000Z",)"
                       R"("updatedAt":"2026-02-01T00:00:00.000Z")";
    if (i % 2 == 0) json += R"(,"tags":["t)" + std::to_string(i) + R"("])";
    if (i % 5 == 0) json += R"(,"labels":["app"])";
    h.put("notes", ws(i), json + "}");
  }
  for (int i = 0; i < 2; ++i) {
    h.put("notes", ws(i),
          R"({"id":"other-)" + std::to_string(i) + R"(","workspaceId":")" + ws(i) +
              R"(","userId":"u-9","productId":"otherapp","tags":["x"]})");
  }
}

const std::string kNotes = R"("name": "notes", "partitionKeyPath": "/workspaceId")";

}  // namespace

TEST_CASE("backfill-field, rename-field, then remove-field: refused until every note has labels") {
  Harness h;
  seed_notes(h);

  const std::string backfill = testing::manifest_text(
      "backfill-field", "{" + kNotes + R"(, "field": "archived", "value": false})");
  RunResult dry = h.run(backfill, Mode::kDryRun);
  REQUIRE(dry.outcome.status == RunStatus::kSucceeded);
  CHECK(dry.counts.scanned == 20);  // productId filter: the other product is not read
  CHECK(dry.counts.rewritten == 20);
  CHECK_FALSE(h.read("notes", "note-3", ws(3)).HasMember("archived"));
  RunResult live = h.run(backfill, Mode::kLive);
  REQUIRE(live.outcome.status == RunStatus::kSucceeded);
  CHECK(live.counts.rewritten == 20);
  const auto note3 = h.read("notes", "note-3", ws(3));
  CHECK(note3["archived"].IsFalse());
  CHECK(std::string(note3["updatedAt"].GetString()) == "2026-02-01T00:00:00.000Z");
  CHECK(h.run(backfill, Mode::kLive).counts.rewritten == 0);  // idempotent

  // remove-field before the rename: 8 notes have tags and no labels; refused before any write.
  const std::string remove = testing::manifest_text(
      "remove-field", "{" + kNotes + R"(, "field": "tags", "requireField": "labels"})");
  RunResult refused = h.run(remove, Mode::kLive);
  CHECK(refused.outcome.status == RunStatus::kFailed);
  CHECK(refused.outcome.reason ==
        "refused: 8 documents have tags but no labels; backfill labels first (rename-field), "
        "then remove tags");
  CHECK(h.read("notes", "note-2", ws(2)).HasMember("tags"));
  RunResult remove_dry =
      h.run(testing::manifest_text("remove-field", "{" + kNotes + R"(, "field": "tags",
                                                     "requireField": "labels"})",
                                   R"(, "stopCriteria": {"maxErrors": 100})"),
            Mode::kDryRun);
  CHECK(remove_dry.figure("lacking.labels") == 8);
  CHECK(remove_dry.counts.errors == 8);  // what the live run would leave untouched

  const std::string rename =
      testing::manifest_text("rename-field", "{" + kNotes + R"(, "from": "tags", "to": "labels"})");
  RunResult renamed = h.run(rename, Mode::kLive);
  REQUIRE(renamed.outcome.status == RunStatus::kSucceeded);
  CHECK(renamed.counts.rewritten == 8);
  CHECK(renamed.counts.fields[0].skipped == 12);
  CHECK(common::to_json(h.read("notes", "note-2", ws(2))["labels"]) == R"(["t2"])");
  CHECK(common::to_json(h.read("notes", "note-10", ws(10))["labels"]) == R"(["app"])");

  RunResult removed = h.run(remove, Mode::kLive);
  REQUIRE(removed.outcome.status == RunStatus::kSucceeded);
  CHECK(removed.figure("lacking.labels") == 0);
  CHECK(removed.counts.rewritten == 10);
  const auto note2 = h.read("notes", "note-2", ws(2));
  CHECK_FALSE(note2.HasMember("tags"));
  CHECK(std::string(note2["createdAt"].GetString()) == "2026-01-01T00:00:00.000Z");
  CHECK(h.read("notes", "other-0", ws(0)).HasMember("tags"));  // another product: untouched
}

TEST_CASE("remap-enum, user-visible: mapped values stamped with updatedAt, unknown ones left") {
  Harness h;
  h.create("note_agent_actions", "/workspaceId");
  const char* states[] = {"proposed", "approved", "applied", "pending_review", "rejected"};
  for (int i = 0; i < 15; ++i) {
    h.put("note_agent_actions", ws(i),
          R"({"id":"act-)" + std::to_string(i) + R"(","workspaceId":")" + ws(i) +
              R"(","userId":"u-1","productId":"notelett","state":")" + states[i % 5] +
              R"(","updatedAt":"2026-02-01T00:00:00.000Z"})");
  }
  const std::string remap = testing::manifest_text(
      "remap-enum",
      R"({"name": "note_agent_actions", "partitionKeyPath": "/workspaceId", "field": "state",
          "map": {"proposed": "pending_review", "applied": "completed"}})",
      R"(, "userVisible": true, "rollback": "inverse map; image v41")");
  RunResult result = h.run(remap, Mode::kLive);
  REQUIRE(result.outcome.status == RunStatus::kSucceeded);
  CHECK(result.counts.rewritten == 6);
  CHECK(result.counts.fields[0].left == 6);     // approved, rejected: unknown, left
  CHECK(result.counts.fields[0].skipped == 3);  // pending_review: already new
  const auto applied = h.read("note_agent_actions", "act-2", ws(2));
  CHECK(std::string(applied["state"].GetString()) == "completed");
  CHECK(std::string(applied["updatedAt"].GetString()) == "2026-11-24T12:00:00.000Z");
  const auto approved = h.read("note_agent_actions", "act-1", ws(1));
  CHECK(std::string(approved["state"].GetString()) == "approved");
  CHECK(std::string(approved["updatedAt"].GetString()) == "2026-02-01T00:00:00.000Z");
}

TEST_CASE("copy-container copies to a new container with a new partition key, idempotently") {
  Harness h;
  seed_notes(h);
  const std::string copy = testing::manifest_text(
      "copy-container", "{" + kNotes + R"(, "target": {"name": "notes_by_user",
      "partitionKeyPath": "/userId", "create": true, "sampleSize": 5}})");
  const auto source_before = h.read("notes", "note-7", ws(7));

  RunResult dry = h.run(copy, Mode::kDryRun);
  REQUIRE(dry.outcome.status == RunStatus::kSucceeded);
  CHECK(dry.counts.rewritten == 20);

  for (int round = 0; round < 2; ++round) {
    RunResult live = h.run(copy, Mode::kLive);
    REQUIRE_MESSAGE(live.outcome.status == RunStatus::kSucceeded, live.outcome.reason);
    CHECK(live.counts.rewritten == 20);
    CHECK(live.figure("targetCountBefore") == (round == 0 ? 0 : 20));
    CHECK(live.figure("sourceCount") == 20);
    CHECK(live.figure("targetCount") == 20);  // a rerun upserts the same copies
    CHECK(live.figure("sampleCompared") == 5);
    CHECK(live.figure("sampleMismatches") == 0);
  }
  const auto copied = h.read("notes_by_user", "note-7", "u-3");
  CHECK(std::string(copied["workspaceId"].GetString()) == ws(7));
  const auto source_after = h.read("notes", "note-7", ws(7));
  CHECK(std::string(source_after["_etag"].GetString()) ==
        std::string(source_before["_etag"].GetString()));  // never written

  // A copy changed behind the job's back is caught by the sample comparison.
  h.put("notes_by_user", "u-0", R"({"id":"note-0","workspaceId":"ws-0","userId":"u-0",
        "productId":"notelett","tampered":true})");
  const std::string check_only = testing::manifest_text(
      "copy-container", "{" + kNotes + R"(, "target": {"name": "notes_by_user",
      "partitionKeyPath": "/userId", "sampleSize": 20}})");
  const migrations::Manifest manifest = testing::parsed_manifest(check_only);
  const CheckTarget target{manifest, manifest.containers[0], h.database, Mode::kLive};
  const CheckReport report = run_sync(h.io, check_after_run(*h.client, target, Counts{}));
  CHECK(report.failure == "1 of 20 sampled copies differ from their source (first: note-0)");
}

TEST_CASE("encrypt, verify clean, plant problems, verify exactly, rekey to a new primary") {
  Harness h;
  h.create("notes", "/workspaceId");
  for (int i = 0; i < 24; ++i) {
    h.put("notes", ws(i),
          R"({"id":"note-)" + std::to_string(i) + R"(","workspaceId":")" + ws(i) +
              R"(","userId":"u-)" + std::to_string(i % 4) +
              R"(","productId":"notelett","body":"text )" + std::to_string(i) + R"("})");
  }
  const crypto::StaticKeyring k1("file", "k1", {{"k1", key_bytes(1)}});
  const crypto::StaticKeyring rotated("file", "k2", {{"k1", key_bytes(1)}, {"k2", key_bytes(2)}});
  const std::string map =
      "{" + kNotes + R"(, "fields": ["body"], "context": "notes", "userIdField": "userId"})";

  REQUIRE(h.run(testing::manifest_text("encrypt-fields", map), Mode::kLive, &k1).outcome.status ==
          RunStatus::kSucceeded);
  const std::string verify = testing::manifest_text("verify", map);
  RunResult clean = h.run(verify, Mode::kLive, &k1);
  REQUIRE_MESSAGE(clean.outcome.status == RunStatus::kSucceeded, clean.outcome.reason);
  CHECK(clean.figure("plaintext.body") == 0);
  CHECK(clean.figure("undecryptable.body") == 0);
  CHECK(clean.counts.fields[0].rewritten == 24);  // "verified"

  // Plant: two plaintext values, one envelope moved to another owner's note (foreign AAD), one
  // with its ciphertext corrupted.
  h.put(
      "notes", ws(1),
      R"({"id":"note-1","workspaceId":"ws-1","userId":"u-1","productId":"notelett","body":"plain again"})");
  h.put(
      "notes", ws(2),
      R"({"id":"plant-2","workspaceId":"ws-2","userId":"u-2","productId":"notelett","body":{"n":5}})");
  auto moved = h.read("notes", "note-4", ws(4));  // owner u-0
  moved["userId"].SetString("u-3");
  h.put("notes", ws(4), common::to_json(moved));
  auto corrupted = h.read("notes", "note-5", ws(5));
  std::string ct = corrupted["body"]["ct"].GetString();
  ct[0] = ct[0] == 'A' ? 'B' : 'A';
  corrupted["body"]["ct"].SetString(ct.c_str(), corrupted.GetAllocator());
  h.put("notes", ws(5), common::to_json(corrupted));

  RunResult planted = h.run(verify, Mode::kLive, &k1);
  CHECK(planted.outcome.status == RunStatus::kFailed);
  CHECK(planted.figure("plaintext.body") == 2);
  CHECK(planted.figure("undecryptable.body") == 2);
  CHECK(planted.counts.fields[0].left == 2);
  CHECK(planted.counts.fields[0].rewritten == 21);
  CHECK(planted.outcome.reason == "verification failed: body: 2 plaintext, 2 undecryptable");
  CHECK(h.read("notes", "note-1", ws(1))["body"].IsString());  // verify never writes

  // Rekey under the rotated keyring: the 21 sound k1 envelopes move to k2; plaintext and the
  // two undecryptable values are counted and left.
  RunResult rekeyed =
      h.run(testing::manifest_text("rekey", map, R"(, "stopCriteria": {"maxErrors": 2})"),
            Mode::kLive, &rotated);
  REQUIRE_MESSAGE(rekeyed.outcome.status == RunStatus::kSucceeded, rekeyed.outcome.reason);
  CHECK(rekeyed.counts.rewritten == 21);
  CHECK(rekeyed.counts.fields[0].left == 2);
  CHECK(rekeyed.counts.errors == 2);
  const auto note9 = h.read("notes", "note-9", ws(9));
  CHECK(std::string(note9["body"]["kid"].GetString()) == "k2");
  auto envelope = crypto::parse_envelope(note9["body"]);
  REQUIRE(envelope.ok());
  auto text = crypto::open(rotated, *envelope, crypto::make_aad("notes", "u-1"));
  REQUIRE(text.ok());
  CHECK(*text == R"("text 9")");
  CHECK(h.run(testing::manifest_text("rekey", map, R"(, "stopCriteria": {"maxErrors": 2})"),
              Mode::kLive, &rotated)
            .counts.rewritten == 0);
  // After rekey, verify with the new primary only: k1 envelopes would now be unknown kids.
  const crypto::StaticKeyring k2_only("file", "k2", {{"k2", key_bytes(2)}});
  RunResult after = h.run(verify, Mode::kLive, &k2_only);
  CHECK(after.counts.fields[0].rewritten == 21);
  CHECK(after.figure("undecryptable.body") == 2);
}

}  // namespace backfilld::engine
