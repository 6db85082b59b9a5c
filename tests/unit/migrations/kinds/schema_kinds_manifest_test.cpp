// Manifest schema of the schema-change kinds, and every NoteLett example manifest.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "daemon/crypto/keyring.hpp"
#include "migrations/kind.hpp"
#include "migrations/kinds/backfill_field.hpp"
#include "migrations/kinds/copy_container.hpp"
#include "migrations/kinds/remap_enum.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"
#include "tests/support/manifest_text.hpp"

namespace backfilld::migrations {
namespace {

using testing::manifest_text;
using testing::parsed_manifest;
using testing::refusal_of;

void check_refused(const std::string& text, std::string_view expected) {
  const std::string message = refusal_of(text);
  INFO("message: " << message);
  CHECK_FALSE(message.empty());
  CHECK(message.find(expected) != std::string::npos);
}

constexpr std::string_view kNotes = R"("name": "notes", "partitionKeyPath": "/workspaceId")";

/// The settings of `spec` as kind settings `T`.
template <class T>
const T& settings_of(const ContainerSpec& spec) {
  const T* settings = spec.settings.get_if<T>();
  REQUIRE(settings != nullptr);
  return *settings;
}

std::string container(std::string_view keys) {
  return "{" + std::string(kNotes) + ", " + std::string(keys) + "}";
}

}  // namespace

TEST_CASE("every NoteLett manifest loads, round-trips and builds its transforms") {
  const std::filesystem::path folder = std::string(BACKFILLD_SOURCE_DIR) + "/migrations/notelett";
  std::set<std::string> kinds;
  crypto::KeyBytes key{};
  key.fill(3);
  const crypto::StaticKeyring keyring("env", "k1", {{"k1", key}});
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    INFO("manifest: " << entry.path().filename().string());
    auto manifest = load_manifest_file(entry.path().string());
    REQUIRE_MESSAGE(manifest.ok(), (manifest.ok() ? "" : manifest.error().message));
    CHECK(manifest->kind == entry.path().stem().string());  // one file per kind, named by it
    CHECK(manifest->product_id == std::optional<std::string>("notelett"));
    CHECK_FALSE(manifest->rollback.empty());
    kinds.insert(manifest->kind);
    auto again = parse_manifest(to_json(*manifest));
    REQUIRE(again.ok());
    CHECK(*again == *manifest);
    for (const ContainerSpec& spec : manifest->containers) {
      auto transform =
          make_transform(*manifest, spec, &keyring, crypto::random_iv, "2026-11-24T00:00:00.000Z");
      CHECK_MESSAGE(transform.ok(), spec.name);
    }
  }
  std::set<std::string> known;
  for (const Kind* kind : known_kinds()) known.insert(std::string(kind->name()));
  CHECK(kinds == known);
}

TEST_CASE("backfill-field needs exactly one of value and fromField, and a writable field") {
  const auto accepted = parsed_manifest(
      manifest_text("backfill-field", container(R"("field": "archived", "value": false)")));
  CHECK(settings_of<BackfillFieldSettings>(accepted.containers[0]).field == "archived");
  CHECK(settings_of<BackfillFieldSettings>(accepted.containers[0]).value_json == "false");
  check_refused(manifest_text("backfill-field", container(R"("field": "archived")")),
                R"(containers[0]: needs exactly one of "value" (a constant) and "fromField")");
  check_refused(
      manifest_text("backfill-field", container(R"("field": "a", "value": 1, "fromField": "b")")),
      "containers[0]: needs exactly one of");
  check_refused(manifest_text("backfill-field", container(R"("field": "a", "value": null)")),
                "containers[0].value: must not be null");
  check_refused(manifest_text("backfill-field", container(R"("field": "a", "fromField": "a")")),
                R"(containers[0].fromField: must differ from "field")");
  check_refused(manifest_text("backfill-field", container(R"("field": "a.b", "value": 1)")),
                "containers[0].field: must be a top-level field name");
  check_refused(manifest_text("backfill-field", container(R"("feild": "a", "value": 1)")),
                R"(containers[0].feild: unknown field (did you mean "field"?))");
}

TEST_CASE("preserved fields are refused as targets of every schema kind, naming the path") {
  const std::pair<std::string_view, std::string_view> preserved[] = {
      {"id", "it is the document id"},
      {"workspaceId", "it is the partition key field"},
      {"productId", "it is the productId filter field"},
      {"userId", "it is an owner or scope field"},
      {"createdBy", "it is an owner or scope field"},
      {"createdAt", "it is a timestamp the plan preserves"},
      {"updatedAt", "it is a timestamp the plan preserves"},
      {"sourceEditedAt", "a source timestamp"},
      {"_ts", "it is a Cosmos system property"},
  };
  for (const auto& [field, reason] : preserved) {
    const std::string name(field);
    INFO("field " << name);
    check_refused(
        manifest_text("backfill-field", container(R"("field": ")" + name + R"(", "value": 1)")),
        "containers[0].field: \"" + name + "\" is preserved by every backfill");
    check_refused(
        manifest_text("backfill-field", container(R"("field": ")" + name + R"(", "value": 1)")),
        reason);
    check_refused(
        manifest_text("rename-field", container(R"("from": "x", "to": ")" + name + R"(")")),
        "containers[0].to: \"" + name + "\" is preserved");
    check_refused(manifest_text("remove-field",
                                container(R"("field": ")" + name + R"(", "requireField": "x")")),
                  "containers[0].field: \"" + name + "\" is preserved");
    check_refused(
        manifest_text("remap-enum", container(R"("field": ")" + name + R"(", "map": {"a": "b"})")),
        "containers[0].field: \"" + name + "\" is preserved");
  }
}

TEST_CASE("rename-field, remove-field and remap-enum name each broken key") {
  check_refused(manifest_text("rename-field", container(R"("from": "tags")")),
                "containers[0].to: required");
  check_refused(manifest_text("rename-field", container(R"("from": "tags", "to": "tags")")),
                R"(containers[0].to: must differ from "from")");
  check_refused(manifest_text("remove-field", container(R"("field": "tags")")),
                "containers[0].requireField: required");
  check_refused(manifest_text("remap-enum", container(R"("field": "state", "map": {})")),
                "containers[0].map: must be a non-empty object");
  check_refused(manifest_text("remap-enum", container(R"("field": "state", "map": {"a": 1})")),
                "containers[0].map.a: must be a non-empty string");
  check_refused(
      manifest_text("remap-enum", container(R"("field": "state", "map": {"a": "b", "b": "c"})")),
      R"(containers[0].map.a: maps to "b", which is itself remapped)");
  const auto remap = parsed_manifest(manifest_text(
      "remap-enum", container(R"("field": "state", "map": {"open": "active", "shut": "closed"})")));
  CHECK(settings_of<RemapEnumSettings>(remap.containers[0]).value_map ==
        std::vector<std::pair<std::string, std::string>>{{"open", "active"}, {"shut", "closed"}});
}

TEST_CASE("copy-container names a target other than the source, with a partition key path") {
  const auto copy = parsed_manifest(manifest_text(
      "copy-container",
      container(R"("target": {"name": "notes_by_user", "partitionKeyPath": "/userId"})")));
  CHECK(settings_of<CopyContainerSettings>(copy.containers[0]).target ==
        CopyTarget{"notes_by_user", "/userId", false, 20});
  check_refused(manifest_text("copy-container", container(R"("target": {"name": "notes",
                "partitionKeyPath": "/userId"})")),
                "containers[0].target.name: must differ from the source container");
  check_refused(
      manifest_text("copy-container",
                    container(R"("target": {"name": "x", "partitionKeyPath": "userId"})")),
      "containers[0].target.partitionKeyPath: must be a string that starts with '/'");
  check_refused(
      manifest_text("copy-container", container(R"("target": {"name": "x", "partitionKeyPath": "/u",
                              "create": "yes", "sampelSize": 3})")),
      "containers[0].target.create: must be true or false");
  check_refused(
      manifest_text("copy-container", container(R"("target": {"name": "x", "partitionKeyPath": "/u",
                              "sampelSize": 3})")),
      R"(containers[0].target.sampelSize: unknown field (did you mean "sampleSize"?))");
  check_refused(manifest_text("copy-container", "{" + std::string(kNotes) + "}"),
                "containers[0].target: required");
}

TEST_CASE("a user-visible manifest of any kind without a rollback note is refused") {
  for (const Kind* kind : known_kinds()) {
    INFO("kind " << kind->name());
    check_refused(
        manifest_text(kind->name(), container(R"("field": "x")"), R"(, "userVisible": true)"),
        "rollback: required when userVisible is true");
  }
}

TEST_CASE("make_transform refuses a user-visible schema change without the run's time") {
  const auto manifest = parsed_manifest(
      manifest_text("backfill-field", container(R"("field": "archived", "value": false)"),
                    R"(, "userVisible": true, "rollback": "roll back the image")"));
  auto refused = make_transform(manifest, manifest.containers[0], nullptr);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("user-visible backfill-field") != std::string::npos);
  CHECK(make_transform(manifest, manifest.containers[0], nullptr, crypto::random_iv,
                       "2026-11-24T00:00:00.000Z")
            .ok());
}

}  // namespace backfilld::migrations
