#include "migrations/kinds/encrypt_fields.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/common/json.hpp"
#include "daemon/crypto/envelope.hpp"

namespace backfilld::migrations {
namespace {

using crypto::KeyBytes;

constexpr KeyBytes kKey = [] {
  KeyBytes key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(0xA0 + i);
  return key;
}();

/// Deterministic IVs 1, 2, 3... counting the calls.
struct CountingIvs {
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  crypto::IvSource source() const {
    return [calls = calls] {
      crypto::Iv iv{};
      iv[11] = static_cast<unsigned char>(++*calls);
      return iv;
    };
  }
};

Manifest encrypt_manifest() {
  Manifest manifest;
  manifest.id = "notelett-encrypt-fields";
  manifest.kind = "encrypt-fields";
  return manifest;
}

// The NoteLett field map (DESIGN.md).
ContainerSpec notes_spec() {
  return {"notes", "/workspaceId", EnvelopeFields{{"body"}, "notes", "userId", {}}};
}
ContainerSpec artifacts_spec() {
  return {"note_artifacts", "/workspaceId",
          EnvelopeFields{{"title", "description", "blobPath"}, "note_artifacts", "userId", {}}};
}
ContainerSpec prompts_spec() {
  return {"note_prompts", "/userId",
          EnvelopeFields{{"description", "systemPrompt", "userPromptTemplate"},
                         "note_prompts",
                         "userId",
                         {"__builtin__"}}};
}

rapidjson::Document parse(std::string_view text) {
  auto parsed = common::parse_json(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

std::unique_ptr<Transform> make(const ContainerSpec& spec,
                                const crypto::Keyring* keyring,
                                crypto::IvSource ivs = crypto::random_iv) {
  auto transform = make_transform(encrypt_manifest(), spec, keyring, std::move(ivs));
  REQUIRE(transform.ok());
  return std::move(*transform);
}

/// Applies in both modes; checks dry and live agree and that the dry run changed nothing.
/// Returns the live result; `document` is left as the live run made it.
TransformResult apply_both(const Transform& transform, rapidjson::Document& document) {
  const std::string before = common::to_json(document);
  TransformResult dry = transform.apply(document, Mode::kDryRun);
  CHECK(common::to_json(document) == before);
  TransformResult live = transform.apply(document, Mode::kLive);
  CHECK(dry.outcome == live.outcome);
  CHECK(dry.fields == live.fields);
  if (live.outcome != Outcome::kRewritten) CHECK(common::to_json(document) == before);
  return live;
}

std::string opened(const crypto::Keyring& keyring,
                   const rapidjson::Value& value,
                   std::string_view context,
                   std::string_view owner) {
  auto envelope = crypto::parse_envelope(value);
  REQUIRE(envelope.ok());
  auto plaintext = crypto::open(keyring, *envelope, crypto::make_aad(context, owner));
  REQUIRE(plaintext.ok());
  return *plaintext;
}

const std::vector<FieldOutcome> kAllUntouched3(3, FieldOutcome::kUntouched);

}  // namespace

TEST_CASE("make_transform builds encrypt-fields and names an unknown kind") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make_transform(encrypt_manifest(), artifacts_spec(), &keyring);
  REQUIRE(transform.ok());
  CHECK((*transform)->fields() == std::vector<std::string>{"title", "description", "blobPath"});

  Manifest other = encrypt_manifest();
  other.kind = "rename-fields";
  auto unknown = make_transform(other, artifacts_spec(), &keyring);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "invalid_manifest");
  CHECK(unknown.error().message.find("\"rename-fields\"") != std::string::npos);
  CHECK(unknown.error().message.find("rename-field,") != std::string::npos);
}

TEST_CASE("make_transform refuses fields that must stay plaintext and broken specs") {
  const std::pair<ContainerSpec, std::string_view> refused[] = {
      {{"notes", "/workspaceId", EnvelopeFields{{"body", "userId"}, "notes", "userId", {}}},
       "field \"userId\" is the owner field"},
      {{"notes", "/workspaceId", EnvelopeFields{{"workspaceId"}, "notes", "userId", {}}},
       "field \"workspaceId\" holds the partition key"},
      {{"notes", "/tenant/id", EnvelopeFields{{"tenant"}, "notes", "userId", {}}},
       "field \"tenant\" holds the partition key"},
      {{"notes", "/workspaceId", EnvelopeFields{{"id"}, "notes", "userId", {}}}, "field \"id\""},
      {{"notes", "/workspaceId", EnvelopeFields{{"productId"}, "notes", "userId", {}}},
       "field \"productId\""},
      {{"notes", "/workspaceId", EnvelopeFields{{"createdAt"}, "notes", "userId", {}}},
       "is a timestamp"},
      {{"notes", "/workspaceId", EnvelopeFields{{"updatedAt"}, "notes", "userId", {}}},
       "is a timestamp"},
      {{"notes", "/workspaceId", EnvelopeFields{{"_etag"}, "notes", "userId", {}}},
       "field \"_etag\""},
      {{"notes", "/workspaceId", EnvelopeFields{{"body", "body"}, "notes", "userId", {}}},
       "listed twice"},
      {{"notes", "/workspaceId", EnvelopeFields{{""}, "notes", "userId", {}}},
       "fields[0] is empty"},
      {{"notes", "/workspaceId", EnvelopeFields{{}, "notes", "userId", {}}},
       "fields must not be empty"},
      {{"notes", "/workspaceId", EnvelopeFields{{"body"}, "", "userId", {}}},
       "context must not be empty"},
      {{"notes", "/workspaceId", EnvelopeFields{{"body"}, "notes", "", {}}},
       "user id field must not be empty"},
      {{"notes", "workspaceId", EnvelopeFields{{"body"}, "notes", "userId", {}}},
       "partition key path"},
      {{"notes", "/", EnvelopeFields{{"body"}, "notes", "userId", {}}}, "partition key path"},
      {{"notes", "/a//b", EnvelopeFields{{"body"}, "notes", "userId", {}}}, "partition key path"},
  };
  for (const auto& [spec_, reason_] : refused) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& spec = spec_;
    const auto& reason = reason_;
    CAPTURE(reason);
    auto transform = make_transform(encrypt_manifest(), spec, nullptr);
    REQUIRE_FALSE(transform.ok());
    CHECK(transform.error().code == "invalid_manifest");
    CHECK(transform.error().message.find("container notes: ") == 0);
    CHECK(transform.error().message.find(reason) != std::string::npos);
  }
}

TEST_CASE("absent or null partition key: kMissingPartitionKey, document untouched") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(artifacts_spec(), &keyring);
  for (const char* text : {R"({"id":"a1","userId":"u1","title":"t"})",
                           R"({"id":"a1","workspaceId":null,"userId":"u1","title":"t"})",
                           R"({"id":"a1","title":"t"})"}) {
    CAPTURE(text);
    rapidjson::Document document = parse(text);
    TransformResult result = apply_both(*transform, document);
    CHECK(result.outcome == Outcome::kMissingPartitionKey);
    CHECK(result.fields == kAllUntouched3);
    CHECK(common::to_json(document) == text);
  }
}

TEST_CASE("a nested partition key path is followed to its value") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform =
      make({"notes", "/tenant/id", EnvelopeFields{{"body"}, "notes", "userId", {}}}, &keyring);
  rapidjson::Document present = parse(R"({"tenant":{"id":"t1"},"userId":"u1","body":"b"})");
  CHECK(apply_both(*transform, present).outcome == Outcome::kRewritten);
  for (const char* text :
       {R"({"tenant":{},"userId":"u1","body":"b"})",
        R"({"tenant":{"id":null},"userId":"u1","body":"b"})",
        R"({"tenant":"t1","userId":"u1","body":"b"})", R"({"id":"t1","userId":"u1","body":"b"})"}) {
    CAPTURE(text);
    rapidjson::Document document = parse(text);
    CHECK(apply_both(*transform, document).outcome == Outcome::kMissingPartitionKey);
  }
}

TEST_CASE("no usable owner: kOwnerMismatch, document untouched") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(artifacts_spec(), &keyring);
  for (const char* text :
       {R"({"workspaceId":"w1","title":"t"})", R"({"workspaceId":"w1","userId":null,"title":"t"})",
        R"({"workspaceId":"w1","userId":42,"title":"t"})",
        R"({"workspaceId":"w1","userId":"","title":"t"})",
        R"({"workspaceId":"w1","userId":{"id":"u1"},"title":"t"})"}) {
    CAPTURE(text);
    rapidjson::Document document = parse(text);
    TransformResult result = apply_both(*transform, document);
    CHECK(result.outcome == Outcome::kOwnerMismatch);
    CHECK(result.fields == kAllUntouched3);
    CHECK(common::to_json(document) == text);
  }
}

TEST_CASE("NoteLett built-in prompts (userId __builtin__) are left alone, user prompts encrypted") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(prompts_spec(), &keyring);
  const char* builtin =
      R"({"id":"p1","userId":"__builtin__","description":"d","systemPrompt":"s","userPromptTemplate":"t"})";
  rapidjson::Document document = parse(builtin);
  TransformResult result = apply_both(*transform, document);
  CHECK(result.outcome == Outcome::kUnchanged);
  CHECK(result.fields == std::vector<FieldOutcome>(3, FieldOutcome::kSkipped));
  CHECK(common::to_json(document) == builtin);

  rapidjson::Document user = parse(
      R"({"id":"p2","userId":"u1","description":"d","systemPrompt":"s","userPromptTemplate":"t"})");
  result = apply_both(*transform, user);
  CHECK(result.outcome == Outcome::kRewritten);
  CHECK(result.fields == std::vector<FieldOutcome>(3, FieldOutcome::kRewritten));
  CHECK(opened(keyring, user["systemPrompt"], "note_prompts", "u1") == R"("s")");
}

TEST_CASE("a malformed envelope makes the document an error, naming field and defect only") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(artifacts_spec(), &keyring);
  const std::string text =
      R"({"workspaceId":"w1","userId":"u1","title":"secret title",)"
      R"("description":{"__encrypted":true,"v":2,"alg":"A256GCM","kid":"k1","iv":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="},)"
      R"("blobPath":"secret/path"})";
  rapidjson::Document document = parse(text);
  TransformResult result = apply_both(*transform, document);
  CHECK(result.outcome == Outcome::kError);
  CHECK(result.fields == std::vector<FieldOutcome>{FieldOutcome::kUntouched, FieldOutcome::kError,
                                                   FieldOutcome::kUntouched});
  CHECK(result.detail.find("field description") != std::string::npos);
  CHECK(result.detail.find("\"v\" must be 1") != std::string::npos);
  CHECK(result.detail.find("secret") == std::string::npos);
  CHECK(common::to_json(document) == text);

  rapidjson::Document two = parse(
      R"({"workspaceId":"w1","userId":"u1","title":{"__encrypted":true},)"
      R"("description":"plain","blobPath":{"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"AAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="}})");
  result = apply_both(*transform, two);
  CHECK(result.outcome == Outcome::kError);
  CHECK(result.fields == std::vector<FieldOutcome>{FieldOutcome::kError, FieldOutcome::kUntouched,
                                                   FieldOutcome::kError});
  CHECK(result.detail.find("field title: \"v\" must be 1") != std::string::npos);
  CHECK(result.detail.find("field blobPath: \"iv\" must be 12 bytes") != std::string::npos);
}

TEST_CASE("absent, null and already-encrypted fields are skipped, every other value is rewritten") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(artifacts_spec(), &keyring);
  // An envelope of any kid is skipped, even one this keyring cannot open: never double-encrypt.
  const std::string foreign_envelope =
      R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k-retired","iv":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="})";
  rapidjson::Document skipped = parse(R"({"workspaceId":"w1","userId":"u1","description":null,)"
                                      R"("blobPath":)" +
                                      foreign_envelope + "}");
  TransformResult result = apply_both(*transform, skipped);
  CHECK(result.outcome == Outcome::kUnchanged);
  CHECK(result.fields == std::vector<FieldOutcome>(3, FieldOutcome::kSkipped));

  for (const char* value : {R"("")", R"("text")", "0", "-1.5", "true", "false", R"({"a":[1]})",
                            "[]", R"({"__encrypted":false})"}) {
    CAPTURE(value);
    rapidjson::Document document =
        parse(std::string(R"({"workspaceId":"w1","userId":"u1","title":)") + value + "}");
    result = apply_both(*transform, document);
    CHECK(result.outcome == Outcome::kRewritten);
    CHECK(result.fields == std::vector<FieldOutcome>{FieldOutcome::kRewritten,
                                                     FieldOutcome::kSkipped,
                                                     FieldOutcome::kSkipped});
    CHECK(crypto::is_envelope(document["title"]));
    CHECK(opened(keyring, document["title"], "note_artifacts", "u1") == value);
  }
}

TEST_CASE("a dry run classifies like a live run, draws no IV and never modifies the document") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  CountingIvs ivs;
  for (const crypto::Keyring* ring : {static_cast<const crypto::Keyring*>(&keyring),
                                      static_cast<const crypto::Keyring*>(nullptr)}) {
    auto transform = make(artifacts_spec(), ring, ivs.source());
    const char* text =
        R"({"workspaceId":"w1","userId":"u1","title":"t","description":null,"blobPath":{"p":1}})";
    rapidjson::Document document = parse(text);
    TransformResult result = transform->apply(document, Mode::kDryRun);
    CHECK(result.outcome == Outcome::kRewritten);
    CHECK(result.fields == std::vector<FieldOutcome>{FieldOutcome::kRewritten,
                                                     FieldOutcome::kSkipped,
                                                     FieldOutcome::kRewritten});
    CHECK(common::to_json(document) == text);
  }
  CHECK(*ivs.calls == 0);
}

TEST_CASE("a live run without a keyring is an error, not a crash, and changes nothing") {
  auto transform = make(notes_spec(), nullptr);
  const char* text = R"({"workspaceId":"w1","userId":"u1","body":"b"})";
  rapidjson::Document document = parse(text);
  TransformResult result = transform->apply(document, Mode::kLive);
  CHECK(result.outcome == Outcome::kError);
  CHECK(result.detail.find("keyring") != std::string::npos);
  CHECK(result.fields == std::vector<FieldOutcome>{FieldOutcome::kUntouched});
  CHECK(common::to_json(document) == text);
}

namespace {

/// A keyring that loses its primary key after `lookups` lookups.
class FailingKeyring final : public crypto::Keyring {
 public:
  explicit FailingKeyring(int lookups) : lookups_left_(lookups) {}
  const std::string& primary_kid() const override { return kid_; }
  const KeyBytes* find(std::string_view) const override {
    return lookups_left_-- > 0 ? &kKey : nullptr;
  }
  const std::string& provider() const override { return kid_; }

 private:
  std::string kid_ = "k1";
  mutable int lookups_left_;
};

}  // namespace

TEST_CASE("a field that fails to seal leaves every field of the document as it was") {
  FailingKeyring keyring(1);  // the first field seals, the second fails
  auto transform = make(artifacts_spec(), &keyring);
  const char* text = R"({"workspaceId":"w1","userId":"u1","title":"t","description":"d"})";
  rapidjson::Document document = parse(text);
  TransformResult result = transform->apply(document, Mode::kLive);
  CHECK(result.outcome == Outcome::kError);
  CHECK(result.fields == std::vector<FieldOutcome>{FieldOutcome::kUntouched, FieldOutcome::kError,
                                                   FieldOutcome::kUntouched});
  CHECK(result.detail.find("field description: ") == 0);
  CHECK(common::to_json(document) == text);
}

TEST_CASE("encryption preserves every other member byte for byte, in order") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  CountingIvs ivs;
  auto transform = make(artifacts_spec(), &keyring, ivs.source());
  const std::string text =
      R"({"id":"art-1","workspaceId":"ws-\u00e9","productId":"notelett","userId":"u\u0001ser",)"
      R"("title":"Caf\u00e9 \u2603 \ud83d\ude00","kind":"pdf","size":9007199254740993,)"
      R"("ratio":0.1,"tiny":1e-7,"huge":1.5e+300,"neg":-0.0,"flags":[true,false,null],)"
      R"("description":{"pages":[1,2,3],"lang":"fr"},"embedding":[0.125,-3.5e-8,42],)"
      R"("meta":{"nested":{"deep":["\u4e2d\u6587",{"x":"\n"}]}},"blobPath":"blobs/a\/b.pdf",)"
      R"("createdAt":"2026-05-05T10:00:00.000Z","updatedAt":"2026-05-05T11:00:00.123Z",)"
      R"("_rid":"abc==","_self":"dbs/x/colls/y/docs/z/","_etag":"\"0a00-0000\"",)"
      R"("_attachments":"attachments/","_ts":1778000000})";
  rapidjson::Document original = parse(text);
  rapidjson::Document document = parse(text);

  TransformResult result = transform->apply(document, Mode::kLive);
  REQUIRE(result.outcome == Outcome::kRewritten);
  CHECK(result.fields == std::vector<FieldOutcome>(3, FieldOutcome::kRewritten));
  CHECK(*ivs.calls == 3);

  REQUIRE(document.MemberCount() == original.MemberCount());
  auto after = document.MemberBegin();
  for (auto before = original.MemberBegin(); before != original.MemberEnd(); ++before, ++after) {
    const std::string name(before->name.GetString(), before->name.GetStringLength());
    CAPTURE(name);
    CHECK(after->name == before->name);
    const bool mapped = name == "title" || name == "description" || name == "blobPath";
    if (mapped) {
      CHECK(crypto::is_envelope(after->value));
      CHECK(opened(keyring, after->value, "note_artifacts", "u\x01ser") ==
            crypto::plaintext_of(before->value));
    } else {
      CHECK(common::to_json(after->value) == common::to_json(before->value));
    }
  }
  // Every field drew its own IV.
  CHECK(common::to_json(document["title"]).find(R"("iv":"AAAAAAAAAAAAAAAB")") != std::string::npos);
  CHECK(common::to_json(document["description"]).find(R"("iv":"AAAAAAAAAAAAAAAC")") !=
        std::string::npos);
  CHECK(common::to_json(document["blobPath"]).find(R"("iv":"AAAAAAAAAAAAAAAD")") !=
        std::string::npos);
}

TEST_CASE("members the app wrote with lone surrogates and control characters keep their bytes") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(notes_spec(), &keyring);
  // As NoteLett's JSON.stringify writes it: lone surrogates and U+0001 escaped, U+2028 and DEL raw.
  const std::string untouched =
      "{\"id\":\"n1\",\"workspaceId\":\"w1\",\"userId\":\"u\\ud800\","
      "\"title\":\"\\udc00 \\u0001 \xE2\x80\xA8 \x7F \\\"q\\\" \xF0\x9F\x98\x80 \\udbff\","
      "\"tags\":[\"\\ud83d\",{\"k\\n\":1.5e-7}],\"body\":";
  rapidjson::Document document = parse(untouched + R"("secret \ud800 body","_ts":1})");
  REQUIRE(transform->apply(document, Mode::kLive).outcome == Outcome::kRewritten);
  const std::string written = common::to_json(document);
  CHECK(written.substr(0, untouched.size()) == untouched);
  CHECK(written.ends_with(R"(,"_ts":1})"));
  // The owner's lone surrogate is in the AAD as JSON.stringify(["notes", "u\ud800"]) has it.
  CHECK(opened(keyring, document["body"], "notes", "u\xED\xA0\x80") == R"("secret \ud800 body")");
}

TEST_CASE("encrypted values decrypt to the originals only under their own context and owner") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(notes_spec(), &keyring);
  rapidjson::Document document =
      parse(R"({"workspaceId":"w1","userId":"user-\u00e9","body":{"blocks":["h\u00e9llo",1.5]}})");
  REQUIRE(transform->apply(document, Mode::kLive).outcome == Outcome::kRewritten);
  const std::string plaintext = opened(keyring, document["body"], "notes", "user-\xC3\xA9");
  CHECK(parse(plaintext) == parse(R"({"blocks":["h\u00e9llo",1.5]})"));

  auto envelope = crypto::parse_envelope(document["body"]);
  REQUIRE(envelope.ok());
  CHECK(crypto::open(keyring, *envelope, crypto::make_aad("notes", "user-2")).error().code ==
        "decrypt_failed");
  CHECK(crypto::open(keyring, *envelope, crypto::make_aad("palace-memory", "user-\xC3\xA9"))
            .error()
            .code == "decrypt_failed");
}

TEST_CASE("applying twice rewrites nothing the second time") {
  crypto::StaticKeyring keyring("env", "k1", {{"k1", kKey}});
  auto transform = make(artifacts_spec(), &keyring);
  rapidjson::Document document =
      parse(R"({"workspaceId":"w1","userId":"u1","title":"t","description":null,"blobPath":"p"})");
  REQUIRE(transform->apply(document, Mode::kLive).outcome == Outcome::kRewritten);
  const std::string once = common::to_json(document);

  TransformResult again = apply_both(*transform, document);
  CHECK(again.outcome == Outcome::kUnchanged);
  CHECK(again.fields == std::vector<FieldOutcome>(3, FieldOutcome::kSkipped));
  CHECK(common::to_json(document) == once);

  // After a key rotation the old envelopes are still skipped, not re-encrypted.
  crypto::StaticKeyring rotated("file", "k2", {{"k1", kKey}, {"k2", kKey}});
  auto after_rotation = make(artifacts_spec(), &rotated);
  CHECK(apply_both(*after_rotation, document).outcome == Outcome::kUnchanged);
  CHECK(common::to_json(document) == once);
}

}  // namespace backfilld::migrations
