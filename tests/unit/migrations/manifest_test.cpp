#include "migrations/manifest.hpp"

#include <doctest/doctest.h>
#include <rapidjson/pointer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/json.hpp"
#include "migrations/envelope_fields.hpp"

namespace backfilld::migrations {
namespace {

/// The envelope kinds' settings of `spec`: every container of these manifests has them.
const EnvelopeFields& envelope(const ContainerSpec& spec) {
  const auto* settings = spec.settings.get_if<EnvelopeFields>();
  REQUIRE(settings != nullptr);
  return *settings;
}
EnvelopeFields& envelope(ContainerSpec& spec) {
  auto* settings = spec.settings.get_if<EnvelopeFields>();
  REQUIRE(settings != nullptr);
  return *settings;
}

const std::string kNoteLettManifest =
    std::string(BACKFILLD_SOURCE_DIR) + "/migrations/notelett/encrypt-fields.json";

/// A valid manifest with two containers; each test breaks one thing in it.
constexpr std::string_view kValid = R"({
  "id": "test-encrypt-v1", "kind": "encrypt-fields", "filter": {"productId": "notelett"},
  "containers": [
    {"name": "notes", "partitionKeyPath": "/workspaceId", "fields": ["body"],
     "context": "notes", "userIdField": "userId"},
    {"name": "palace_memories", "partitionKeyPath": "/userId", "fields": ["content"],
     "context": "palace-memory", "userIdField": "userId"}
  ]})";

rapidjson::Document parsed(std::string_view text) {
  auto document = common::parse_json(text);
  REQUIRE(document.ok());
  return std::move(*document);
}

/// kValid with the JSON `value` set at the JSON pointer `pointer` (added when absent).
rapidjson::Document with(std::string_view pointer, std::string_view value) {
  rapidjson::Document document = parsed(kValid);
  const rapidjson::Document fragment = parsed(value);
  rapidjson::Pointer(std::string(pointer).c_str())
      .Set(document, static_cast<const rapidjson::Value&>(fragment), document.GetAllocator());
  return document;
}

/// kValid without the member at `pointer`.
rapidjson::Document without(std::string_view pointer) {
  rapidjson::Document document = parsed(kValid);
  REQUIRE(rapidjson::Pointer(std::string(pointer).c_str()).Erase(document));
  return document;
}

/// The refusal message of `document`; fails the test when the manifest is accepted.
std::string refusal(const rapidjson::Value& document) {
  auto manifest = parse_manifest(document);
  REQUIRE_FALSE(manifest.ok());
  CHECK(manifest.error().code == "invalid_manifest");
  return manifest.error().message;
}

Manifest accepted(const rapidjson::Value& document) {
  auto manifest = parse_manifest(document);
  if (!manifest.ok()) FAIL(manifest.error().message);
  return std::move(*manifest);
}

/// Expects `document` refused with `expected` in the message (which names the field).
void check_refused(const rapidjson::Value& document, std::string_view expected) {
  const std::string message = refusal(document);
  INFO("message: " << message);
  CHECK(message.find(expected) != std::string::npos);
}

/// A directory of scratch files, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() /
              ("backfilld_manifest_test_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string write(const std::string& name, std::string_view text) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("the NoteLett manifest covers DESIGN's field map exactly, lowest risk first") {
  auto loaded = load_manifest_file(kNoteLettManifest);
  if (!loaded.ok()) FAIL(loaded.error().message);
  const Manifest& manifest = *loaded;
  CHECK(manifest.id == "notelett-encrypt-fields-v1");
  CHECK(manifest.kind == "encrypt-fields");
  CHECK(manifest.database.empty());  // COSMOS_DATABASE picks notelett-prod or a test database
  CHECK(manifest.product_id == std::optional<std::string>("notelett"));
  CHECK(manifest.batch_size == 50);
  CHECK(manifest.stop.max_errors == 0);
  CHECK(manifest.stop.max_owner_mismatch == 0);
  CHECK(manifest.stop.max_missing_partition_key > 0);
  CHECK(manifest.stop.max_missing_partition_key <= 10);
  CHECK_FALSE(manifest.user_visible);
  for (std::string_view phrase : {"Forward-only", "application image", "encrypted data intact",
                                  "new Cosmos account", "incident recovery"}) {
    INFO(phrase);
    CHECK(manifest.rollback.find(phrase) != std::string::npos);
  }

  struct Expected {
    std::string name, partition_key_path;
    std::vector<std::string> fields;
    std::string context, user_id_field;
    std::vector<std::string> skip_owners;
  };
  // DESIGN, "The NoteLett field map", in the manifest's run order.
  const std::vector<Expected> expected = {
      {"note_prompts",
       "/userId",
       {"description", "systemPrompt", "userPromptTemplate"},
       "note_prompts",
       "userId",
       {"__builtin__"}},
      {"palace_memories", "/userId", {"content"}, "palace-memory", "userId", {}},
      {"note_agent_actions",
       "/workspaceId",
       {"reason", "beforeSummary", "afterSummary", "reviewNote"},
       "note_agent_actions",
       "userId",
       {}},
      {"note_artifacts",
       "/workspaceId",
       {"title", "description", "blobPath"},
       "note_artifacts",
       "userId",
       {}},
      {"notes", "/workspaceId", {"body"}, "notes", "userId", {}},
  };
  REQUIRE(manifest.containers.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const ContainerSpec& spec = manifest.containers[i];
    INFO("container " << i << " " << spec.name);
    CHECK(spec.name == expected[i].name);
    CHECK(spec.partition_key_path == expected[i].partition_key_path);
    CHECK(envelope(spec).fields == expected[i].fields);
    CHECK(envelope(spec).context == expected[i].context);
    CHECK(envelope(spec).user_id_field == expected[i].user_id_field);
    CHECK(envelope(spec).skip_owners == expected[i].skip_owners);
    CHECK(manifest.find_container(expected[i].name) == &spec);
  }
  CHECK(manifest.find_container("users") == nullptr);
}

TEST_CASE("defaults apply to every optional key") {
  const Manifest manifest = accepted(parsed(kValid));
  CHECK(manifest.database.empty());
  CHECK(manifest.description.empty());
  CHECK(manifest.batch_size == 50);
  CHECK(manifest.stop == StopCriteria{0, 0, 0});
  CHECK_FALSE(manifest.user_visible);
  CHECK(manifest.rollback.empty());
  CHECK(envelope(manifest.containers[0]).skip_owners.empty());

  const Manifest partial = accepted(with("/stopCriteria", R"({"maxOwnerMismatch": 3})"));
  CHECK(partial.stop == StopCriteria{0, 3, 0});
}

TEST_CASE("accepted edge values") {
  CHECK(accepted(with("/batchSize", "1")).batch_size == 1);
  CHECK(accepted(with("/batchSize", "1000")).batch_size == 1000);
  CHECK(accepted(with("/id", '"' + std::string(128, 'a') + '"')).id.size() == 128);
  CHECK(accepted(with("/id", R"("A-z_0.9")")).id == "A-z_0.9");
  CHECK(accepted(with("/database", R"("notelett-prod")")).database == "notelett-prod");
  CHECK(accepted(with("/containers/0/name", '"' + std::string(255, 'n') + '"'))
            .containers[0]
            .name.size() == 255);
  CHECK(accepted(with("/containers/0/partitionKeyPath", R"("/meta/tenant")"))
            .containers[0]
            .partition_key_path == "/meta/tenant");
  CHECK_FALSE(accepted(with("/filter/productId", "null")).product_id.has_value());
  CHECK(accepted(with("/rollback", R"("restore from backup")")).rollback == "restore from backup");
  CHECK(accepted(with("/stopCriteria/maxErrors", "18446744073709551615")).stop.max_errors ==
        18446744073709551615ULL);
  CHECK(
      envelope(
          accepted(with("/containers/0/skipOwners", R"(["__builtin__", "system"])")).containers[0])
          .skip_owners == std::vector<std::string>{"__builtin__", "system"});
}

TEST_CASE("to_json round-trips through parse_manifest") {
  auto notelett = load_manifest_file(kNoteLettManifest);
  REQUIRE(notelett.ok());
  const Manifest opted_out = accepted(with("/filter/productId", "null"));
  Manifest everything = accepted(parsed(kValid));
  everything.database = "notelett-test";
  everything.description = "all keys";
  everything.batch_size = 7;
  everything.stop = {1, 2, 3};
  everything.user_visible = true;
  everything.rollback = "roll back the image";
  envelope(everything.containers[1]).skip_owners = {"__builtin__"};

  for (const Manifest* manifest :
       std::vector<const Manifest*>{&*notelett, &opted_out, &everything}) {
    INFO(manifest->id);
    const rapidjson::Document json = to_json(*manifest);
    auto back = parse_manifest(json);
    if (!back.ok()) FAIL(back.error().message);
    CHECK(*back == *manifest);
    // Through text too, as the state store keeps it.
    CHECK(accepted(parsed(common::to_json(json))) == *manifest);
  }
  const std::string text = common::to_json(to_json(opted_out));
  CHECK(text.find(R"("filter":{"productId":null})") != std::string::npos);
  CHECK(text.find(R"("batchSize":50)") != std::string::npos);
  CHECK(text.find(R"("stopCriteria":{"maxErrors":0,"maxOwnerMismatch":0,)") != std::string::npos);
  CHECK(text.find("database") == std::string::npos);
}

TEST_CASE("the manifest must be an object") {
  check_refused(parsed("[]"), "manifest: must be a JSON object");
  check_refused(parsed(R"("x")"), "manifest: must be a JSON object");
}

TEST_CASE("id: required, 1..128 of [A-Za-z0-9._-]") {
  check_refused(without("/id"), "id: required");
  const std::string rule = "id: must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-'";
  for (std::string_view bad : {R"("")", R"("has space")", R"("a/b")", R"("é")", "5", "null"}) {
    INFO(bad);
    check_refused(with("/id", bad), rule);
  }
  check_refused(with("/id", '"' + std::string(129, 'a') + '"'), rule);
}

TEST_CASE("kind: one of the known kinds") {
  const std::string rule =
      R"(kind: must be one of "encrypt-fields", "backfill-field", "rename-field", )"
      R"("remove-field", "remap-enum", "copy-container", "rekey", "verify")";
  check_refused(without("/kind"), "kind: required");
  check_refused(with("/kind", R"("encrypt-field")"), rule);
  check_refused(with("/kind", "1"), rule);
  // Without a known kind, only the kind is reported, not every container key as unknown.
  CHECK(refusal(with("/kind", R"("copy")")) == rule);
}

TEST_CASE("database and description: strings, database a Cosmos id") {
  const std::string rule =
      R"(database: must be a valid Cosmos id: 1 to 255 characters, none of '/', '\', '?', '#')";
  for (std::string_view bad : {R"("")", R"("a/b")", R"("a\\b")", R"("a?b")", R"("a#b")", "1"}) {
    INFO(bad);
    check_refused(with("/database", bad), rule);
  }
  check_refused(with("/database", '"' + std::string(256, 'd') + '"'), rule);
  check_refused(with("/description", "5"), "description: must be a string");
}

TEST_CASE("filter.productId: required, a non-empty string or an explicit null") {
  check_refused(without("/filter"), "filter: required");
  CHECK(refusal(without("/filter")).find("null to opt out explicitly") != std::string::npos);
  check_refused(with("/filter", R"("notelett")"), "filter: must be an object");
  check_refused(with("/filter", "{}"), "filter.productId: required");
  check_refused(with("/filter/productId", R"("")"),
                "filter.productId: must be a non-empty string, or null to opt out explicitly");
  check_refused(with("/filter/productId", "7"), "filter.productId: must be a non-empty string");
  check_refused(with("/filter/workspaceId", R"("w1")"), "filter.workspaceId: unknown field");
}

TEST_CASE("batchSize: an integer from 1 to 1000") {
  for (std::string_view bad : {"0", "1001", "-1", "50.5", "5e1", R"("50")", "null", "true"}) {
    INFO(bad);
    check_refused(with("/batchSize", bad), "batchSize: must be an integer from 1 to 1000");
  }
}

TEST_CASE("stopCriteria: an object of non-negative integers") {
  check_refused(with("/stopCriteria", "3"), "stopCriteria: must be an object");
  for (std::string_view key : {"maxErrors", "maxOwnerMismatch", "maxMissingPartitionKey"}) {
    for (std::string_view bad : {"-1", "1.5", R"("3")", "null"}) {
      INFO(key << " = " << bad);
      check_refused(with("/stopCriteria/" + std::string(key), bad),
                    "stopCriteria." + std::string(key) + ": must be a non-negative integer");
    }
  }
  check_refused(with("/stopCriteria/maxError", "0"),
                R"(stopCriteria.maxError: unknown field (did you mean "maxErrors"?))");
}

TEST_CASE("rollback: required before a user-visible migration, allowed always") {
  check_refused(with("/userVisible", R"("yes")"), "userVisible: must be true or false");
  check_refused(with("/rollback", "5"), "rollback: must be a string");
  check_refused(with("/userVisible", "true"),
                "rollback: required when userVisible is true: any migration that could affect "
                "user-visible reads needs a rollback note before live execution");
  rapidjson::Document blank = with("/userVisible", "true");
  rapidjson::Pointer("/rollback").Set(blank, " \n\t");
  check_refused(blank, "rollback: required when userVisible is true");
  rapidjson::Document noted = with("/userVisible", "true");
  rapidjson::Pointer("/rollback").Set(noted, "roll back the image; keep data");
  CHECK(accepted(noted).user_visible);
}

TEST_CASE("containers: a non-empty array of objects with unique names") {
  check_refused(without("/containers"), "containers: required");
  check_refused(with("/containers", "[]"), "containers: must be a non-empty array");
  check_refused(with("/containers", "{}"), "containers: must be a non-empty array");
  check_refused(with("/containers/1", "5"), "containers[1]: must be an object");
  check_refused(with("/containers/1/name", R"("notes")"),
                R"(containers[1].name: duplicate container "notes")");
}

TEST_CASE("containers[].name: a valid Cosmos id") {
  check_refused(without("/containers/0/name"), "containers[0].name: required");
  const std::string rule =
      "containers[1].name: must be a valid Cosmos id: 1 to 255 characters, none of '/', '\\', "
      "'?', '#'";
  for (std::string_view bad : {R"("")", R"("a/b")", R"("a\\b")", R"("a?b")", R"("a#b")", "7"}) {
    INFO(bad);
    check_refused(with("/containers/1/name", bad), rule);
  }
  check_refused(with("/containers/1/name", '"' + std::string(256, 'n') + '"'), rule);
}

TEST_CASE("containers[].partitionKeyPath: starts with '/', no empty segment") {
  check_refused(without("/containers/0/partitionKeyPath"),
                "containers[0].partitionKeyPath: required");
  for (std::string_view bad : {R"("workspaceId")", R"("")", "5"}) {
    INFO(bad);
    check_refused(with("/containers/0/partitionKeyPath", bad),
                  "containers[0].partitionKeyPath: must be a string that starts with '/'");
  }
  for (std::string_view bad : {R"("/")", R"("/a//b")", R"("/a/")", R"("//a")"}) {
    INFO(bad);
    check_refused(with("/containers/0/partitionKeyPath", bad),
                  "containers[0].partitionKeyPath: must not have an empty segment");
  }
}

TEST_CASE("encrypt-fields: fields are a non-empty list of unique top-level names") {
  check_refused(without("/containers/1/fields"), "containers[1].fields: required");
  check_refused(with("/containers/1/fields", "[]"),
                "containers[1].fields: must be a non-empty array of strings");
  check_refused(with("/containers/1/fields", R"("content")"),
                "containers[1].fields: must be a non-empty array of strings");
  check_refused(with("/containers/1/fields", R"(["content", ""])"),
                "containers[1].fields[1]: must be a non-empty string");
  check_refused(with("/containers/1/fields/0", "5"),
                "containers[1].fields[0]: must be a non-empty string");
  check_refused(with("/containers/1/fields", R"(["content", "content"])"),
                R"(containers[1].fields[1]: duplicate field "content")");
  for (std::string_view nested : {R"("meta.content")", R"("meta/content")"}) {
    INFO(nested);
    check_refused(with("/containers/1/fields/0", nested),
                  "containers[1].fields[0]: must be a top-level field name (no '/' or '.')");
  }
}

TEST_CASE("encrypt-fields: fields that must stay plaintext are refused with the reason") {
  struct Case {
    std::string_view field, reason;
  };
  // Container 0 is notes, partitioned by /workspaceId, owner userId.
  for (const Case& c : std::vector<Case>{
           {"id", "it is the document id"},
           {"workspaceId", "it is the partition key field"},
           {"productId", "it is the productId filter field"},
           {"userId", "it is the userIdField"},
           {"createdBy", "it is an owner or scope field"},
           {"createdAt", "it is a timestamp the plan preserves"},
           {"updatedAt", "it is a timestamp the plan preserves"},
           {"_etag", "it is a Cosmos system property"},
           {"_ts", "it is a Cosmos system property"},
           {"__encrypted", "it is a Cosmos system property"},
           {"ttl", "Cosmos reads it to expire documents"},
       }) {
    INFO(c.field);
    check_refused(with("/containers/0/fields/0", '"' + std::string(c.field) + '"'),
                  "containers[0].fields[0]: \"" + std::string(c.field) +
                      "\" must stay plaintext: " + std::string(c.reason));
  }
  // The partition key's top-level field, for a nested path.
  rapidjson::Document nested = with("/containers/0/partitionKeyPath", R"("/meta/tenant")");
  rapidjson::Pointer("/containers/0/fields/0").Set(nested, "meta");
  check_refused(nested,
                R"(containers[0].fields[0]: "meta" must stay plaintext: it is the partition)");
  // Whatever field the manifest names as the owner.
  rapidjson::Document owner = with("/containers/0/userIdField", R"("authorId")");
  rapidjson::Pointer("/containers/0/fields/0").Set(owner, "authorId");
  check_refused(
      owner, R"(containers[0].fields[0]: "authorId" must stay plaintext: it is the userIdField)");
}

TEST_CASE("encrypt-fields: context, userIdField and skipOwners") {
  check_refused(without("/containers/0/context"), "containers[0].context: required");
  check_refused(with("/containers/0/context", R"("")"),
                "containers[0].context: must be a non-empty string");
  check_refused(with("/containers/0/context", "1"),
                "containers[0].context: must be a non-empty string");
  check_refused(without("/containers/0/userIdField"), "containers[0].userIdField: required");
  check_refused(with("/containers/0/userIdField", R"("")"),
                "containers[0].userIdField: must be a non-empty string");
  check_refused(with("/containers/0/userIdField", R"("owner.id")"),
                "containers[0].userIdField: must be a top-level field name");
  check_refused(with("/containers/0/skipOwners", R"("__builtin__")"),
                "containers[0].skipOwners: must be an array of strings");
  check_refused(with("/containers/0/skipOwners", "[1]"),
                "containers[0].skipOwners[0]: must be a non-empty string");
  check_refused(with("/containers/0/skipOwners", R"(["__builtin__", "__builtin__"])"),
                R"(containers[0].skipOwners[1]: duplicate owner "__builtin__")");
}

TEST_CASE("unknown and repeated keys are refused at every level") {
  check_refused(with("/batchsize", "50"),
                R"(batchsize: unknown field (did you mean "batchSize"?))");
  check_refused(with("/containers/0/feilds", R"(["body"])"),
                R"(containers[0].feilds: unknown field (did you mean "fields"?))");
  check_refused(with("/containers/1/owner", R"("x")"),
                "containers[1].owner: unknown field; known fields: name, partitionKeyPath, fields, "
                "context, userIdField, skipOwners");
  check_refused(with("/zzz", "1"), "zzz: unknown field; known fields: id, kind,");
  check_refused(with("/filter/productID", R"("x")"), "filter.productID: unknown field");
  check_refused(with("/stopCriteria/maxWarnings", "1"), "stopCriteria.maxWarnings: unknown field");

  std::string repeated(kValid);
  repeated.insert(repeated.find(R"("kind")"), R"("batchSize": 50, "batchSize": 5000, )");
  check_refused(parsed(repeated), "batchSize: duplicate key");
}

TEST_CASE("every problem is reported at once, each naming its field") {
  rapidjson::Document document = with("/batchSize", "0");
  rapidjson::Pointer("/containers/1/fields/0").Set(document, "");
  const std::string message = refusal(document);
  CHECK(message ==
        "batchSize: must be an integer from 1 to 1000; containers[1].fields[0]: must be a "
        "non-empty string");

  std::string many = "[";
  for (int i = 0; i < 25; ++i) many += (i == 0 ? "\"f." : ",\"f.") + std::to_string(i) + "\"";
  many += "]";
  const std::string capped = refusal(with("/containers/0/fields", many));
  CHECK(capped.find("containers[0].fields[19]") != std::string::npos);
  CHECK(capped.find("containers[0].fields[20]") == std::string::npos);
  CHECK(capped.ends_with("; and 5 more"));
}

TEST_CASE("load_manifest_file names the path and where the JSON breaks") {
  const ScratchDir scratch;

  auto missing = load_manifest_file(scratch.path() + "/absent.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "invalid_manifest");
  CHECK(missing.error().message.find("manifest file \"" + scratch.path() +
                                     "/absent.json\": cannot read") == 0);

  auto directory = load_manifest_file(scratch.path());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().message ==
        "manifest file \"" + scratch.path() + "\": cannot read: not a regular file");

  const std::string broken =
      scratch.write("broken.json", "{\n  \"id\": \"x\",\n  \"kind\" \"y\"\n}");
  auto syntax = load_manifest_file(broken);
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().code == "invalid_manifest");
  INFO(syntax.error().message);
  CHECK(syntax.error().message.find("manifest file \"" + broken +
                                    "\": invalid JSON at offset 24 (line 3, column 10): ") == 0);

  const std::string invalid = scratch.write(
      "invalid.json", std::string(kValid).replace(std::string(kValid).find("\"body\""), 6, "\"\""));
  auto refused = load_manifest_file(invalid);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message ==
        "manifest file \"" + invalid + "\": containers[0].fields[0]: must be a non-empty string");

  const std::string huge = scratch.write("huge.json", std::string(2 * 1024 * 1024, ' '));
  auto too_large = load_manifest_file(huge);
  REQUIRE_FALSE(too_large.ok());
  CHECK(too_large.error().message == "manifest file \"" + huge + "\": larger than 1 MiB");

  auto good = load_manifest_file(scratch.write("good.json", kValid));
  REQUIRE(good.ok());
  CHECK(good->containers.size() == 2);
}

}  // namespace backfilld::migrations
