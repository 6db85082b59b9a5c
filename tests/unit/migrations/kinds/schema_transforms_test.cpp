// The schema-change transforms: backfill-field, rename-field, remove-field, remap-enum,
// copy-container. Each over one document, live and dry.
#include <doctest/doctest.h>

#include "daemon/common/json.hpp"
#include "migrations/transform.hpp"
#include "tests/support/manifest_text.hpp"

namespace backfilld::migrations {
namespace {

using testing::manifest_text;
using testing::parsed_manifest;

constexpr std::string_view kNow = "2026-11-24T12:00:00.000Z";

std::unique_ptr<Transform> transform_of(std::string_view kind,
                                        std::string_view keys,
                                        std::string_view extra = {}) {
  const Manifest manifest = parsed_manifest(manifest_text(
      kind, R"({"name": "notes", "partitionKeyPath": "/workspaceId", )" + std::string(keys) + "}",
      extra));
  auto transform = make_transform(manifest, manifest.containers[0], nullptr, crypto::random_iv,
                                  std::string(kNow));
  REQUIRE(transform.ok());
  return std::move(*transform);
}

rapidjson::Document doc(std::string_view text) {
  auto parsed = common::parse_json(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

/// Applies live and dry: the dry run classifies the same and leaves the document as it was.
TransformResult apply_both(const Transform& transform, rapidjson::Document& document) {
  rapidjson::Document dry;
  dry.CopyFrom(document, dry.GetAllocator());
  const std::string before = common::to_json(document);
  const TransformResult dry_result = transform.apply(dry, Mode::kDryRun);
  CHECK(common::to_json(dry) == before);
  const TransformResult live = transform.apply(document, Mode::kLive);
  CHECK(dry_result.outcome == live.outcome);
  CHECK(dry_result.fields == live.fields);
  if (live.outcome != Outcome::kRewritten) CHECK(common::to_json(document) == before);
  return live;
}

constexpr std::string_view kNote =
    R"({"id":"n1","workspaceId":"w1","userId":"u1","productId":"notelett",)"
    R"("createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-02-01T00:00:00.000Z")";

std::string note(std::string_view more = {}) {
  return std::string(kNote) + (more.empty() ? "" : ",") + std::string(more) + "}";
}

}  // namespace

TEST_CASE("backfill-field sets a constant only where the field is missing or null") {
  auto transform = transform_of("backfill-field", R"("field": "archived", "value": {"v": false})");
  CHECK(transform->fields() == std::vector<std::string>{"archived"});

  auto missing = doc(note());
  auto result = apply_both(*transform, missing);
  CHECK(result.outcome == Outcome::kRewritten);
  CHECK(result.fields == std::vector{FieldOutcome::kRewritten});
  CHECK(common::to_json(missing["archived"]) == R"({"v":false})");
  // Not user-visible: every timestamp and preserved field stays as it was.
  CHECK(common::to_json(missing) == note(R"("archived":{"v":false})"));

  auto null_value = doc(note(R"("archived":null)"));
  CHECK(apply_both(*transform, null_value).outcome == Outcome::kRewritten);
  CHECK(null_value["archived"]["v"].IsFalse());

  auto present = doc(note(R"("archived":true)"));
  result = apply_both(*transform, present);
  CHECK(result.outcome == Outcome::kUnchanged);  // never overwrite
  CHECK(result.fields == std::vector{FieldOutcome::kSkipped});
  CHECK(present["archived"].IsTrue());

  auto no_key = doc(R"({"id":"n2","userId":"u1","productId":"notelett"})");
  CHECK(apply_both(*transform, no_key).outcome == Outcome::kMissingPartitionKey);
}

TEST_CASE("backfill-field copies from another field, and a rerun changes nothing") {
  auto transform = transform_of("backfill-field", R"("field": "noteRef", "fromField": "noteId")");
  auto document = doc(note(R"("noteId":"note-7")"));
  CHECK(apply_both(*transform, document).outcome == Outcome::kRewritten);
  CHECK(std::string(document["noteRef"].GetString()) == "note-7");
  CHECK(apply_both(*transform, document).outcome == Outcome::kUnchanged);

  auto no_source = doc(note());
  auto result = apply_both(*transform, no_source);
  CHECK(result.outcome == Outcome::kUnchanged);
  CHECK(result.fields == std::vector{FieldOutcome::kSkipped});
}

TEST_CASE("rename-field copies old to new where new is missing and keeps old") {
  auto transform = transform_of("rename-field", R"("from": "tags", "to": "labels")");
  auto document = doc(note(R"("tags":["a","b"])"));
  CHECK(apply_both(*transform, document).outcome == Outcome::kRewritten);
  CHECK(common::to_json(document["labels"]) == R"(["a","b"])");
  CHECK(common::to_json(document["tags"]) == R"(["a","b"])");

  auto dual_written = doc(note(R"("tags":["old"],"labels":["new"])"));
  CHECK(apply_both(*transform, dual_written).outcome == Outcome::kUnchanged);
  CHECK(common::to_json(dual_written["labels"]) == R"(["new"])");  // the app's write wins
}

TEST_CASE("a user-visible schema change stamps updatedAt on rewritten documents only") {
  auto transform = transform_of("rename-field", R"("from": "tags", "to": "labels")",
                                R"(, "userVisible": true, "rollback": "image v41")");
  auto document = doc(note(R"("tags":["a"])"));
  CHECK(apply_both(*transform, document).outcome == Outcome::kRewritten);
  CHECK(std::string(document["updatedAt"].GetString()) == kNow);
  CHECK(std::string(document["createdAt"].GetString()) == "2026-01-01T00:00:00.000Z");

  auto unchanged = doc(note(R"("tags":["a"],"labels":["a"])"));
  CHECK(apply_both(*transform, unchanged).outcome == Outcome::kUnchanged);
  CHECK(std::string(unchanged["updatedAt"].GetString()) == "2026-02-01T00:00:00.000Z");
}

TEST_CASE("remove-field removes only where the required field is present") {
  auto transform = transform_of("remove-field", R"("field": "tags", "requireField": "labels")");
  auto ready = doc(note(R"("tags":["a"],"labels":["a"])"));
  auto result = apply_both(*transform, ready);
  CHECK(result.outcome == Outcome::kRewritten);
  CHECK_FALSE(ready.HasMember("tags"));
  CHECK(ready.HasMember("labels"));

  for (std::string_view lacking : {R"("tags":["a"])", R"("tags":["a"],"labels":null)"}) {
    auto document = doc(note(lacking));
    result = apply_both(*transform, document);  // left untouched, checked by apply_both
    CHECK(result.outcome == Outcome::kError);
    CHECK(result.fields == std::vector{FieldOutcome::kError});
    CHECK(result.detail == "field tags is present but labels is missing: not removed");
  }

  auto gone = doc(note(R"("labels":["a"])"));
  result = apply_both(*transform, gone);
  CHECK(result.outcome == Outcome::kUnchanged);
  CHECK(result.fields == std::vector{FieldOutcome::kSkipped});
}

TEST_CASE("remap-enum maps by the table: new values are skipped, unknown ones counted and left") {
  auto transform = transform_of(
      "remap-enum",
      R"("field": "state", "map": {"proposed": "pending_review", "applied": "completed"})");
  auto proposed = doc(note(R"("state":"proposed")"));
  CHECK(apply_both(*transform, proposed).outcome == Outcome::kRewritten);
  CHECK(std::string(proposed["state"].GetString()) == "pending_review");
  CHECK(apply_both(*transform, proposed).fields == std::vector{FieldOutcome::kSkipped});

  for (std::string_view unknown : {R"("state":"approved")", R"("state":3)", R"("state":{"a":1})"}) {
    auto document = doc(note(unknown));
    const auto result = apply_both(*transform, document);
    CHECK(result.outcome == Outcome::kUnchanged);
    CHECK(result.fields == std::vector{FieldOutcome::kLeft});
  }
  auto absent = doc(note());
  CHECK(apply_both(*transform, absent).fields == std::vector{FieldOutcome::kSkipped});
}

TEST_CASE("copy-container names its destination and needs the new partition key") {
  auto transform = transform_of(
      "copy-container", R"("target": {"name": "notes_by_user", "partitionKeyPath": "/userId"})");
  REQUIRE(transform->copy_destination() != nullptr);
  CHECK(transform->copy_destination()->container == "notes_by_user");
  CHECK(transform->copy_destination()->partition_key_path == "/userId");
  CHECK(transform->fields().empty());

  auto document = doc(note(R"("_rid":"r","_self":"s","_etag":"e","_attachments":"a","_ts":5)"));
  CHECK(transform->apply(document, Mode::kDryRun).outcome == Outcome::kRewritten);
  CHECK(document.HasMember("_etag"));
  CHECK(transform->apply(document, Mode::kLive).outcome == Outcome::kRewritten);
  CHECK(common::to_json(document) == note());  // the copy: everything but system properties

  auto no_user = doc(R"({"id":"n3","workspaceId":"w1","productId":"notelett"})");
  CHECK(apply_both(*transform, no_user).outcome == Outcome::kMissingPartitionKey);
}

}  // namespace backfilld::migrations
