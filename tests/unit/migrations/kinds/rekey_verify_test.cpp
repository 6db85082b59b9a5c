// rekey and verify over documents sealed by encrypt-fields under old and new keys.
#include <doctest/doctest.h>

#include "daemon/common/json.hpp"
#include "daemon/crypto/envelope.hpp"
#include "daemon/crypto/keyring.hpp"
#include "migrations/transform.hpp"
#include "tests/support/manifest_text.hpp"

namespace backfilld::migrations {
namespace {

using testing::manifest_text;
using testing::parsed_manifest;

crypto::KeyBytes key_of(unsigned char fill) {
  crypto::KeyBytes key{};
  key.fill(fill);
  return key;
}

// k1 was the primary; the rotation made k2 the primary and keeps k1 to decrypt.
const crypto::StaticKeyring kOld("file", "k1", {{"k1", key_of(1)}});
const crypto::StaticKeyring kRotated("file", "k2", {{"k1", key_of(1)}, {"k2", key_of(2)}});
const crypto::StaticKeyring kForeign("file", "k1", {{"k1", key_of(9)}});

Manifest manifest_of(std::string_view kind) {
  return parsed_manifest(
      manifest_text(kind, R"({"name": "note_prompts", "partitionKeyPath": "/userId",
      "fields": ["description", "systemPrompt"], "context": "note_prompts",
      "userIdField": "userId", "skipOwners": ["__builtin__"]})"));
}

std::unique_ptr<Transform> transform_of(std::string_view kind, const crypto::Keyring* keyring) {
  const Manifest manifest = manifest_of(kind);
  auto transform = make_transform(manifest, manifest.containers[0], keyring);
  REQUIRE(transform.ok());
  return std::move(*transform);
}

rapidjson::Document prompt(std::string_view owner, std::string_view more) {
  auto parsed = common::parse_json(R"({"id":"p1","userId":")" + std::string(owner) +
                                   R"(","productId":"notelett",)" + std::string(more) + "}");
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

/// `document` with its mapped fields sealed under `keyring`'s primary, as encrypt-fields does.
void encrypt(rapidjson::Document& document, const crypto::Keyring& keyring) {
  const auto transform = transform_of("encrypt-fields", &keyring);
  REQUIRE(transform->apply(document, Mode::kLive).outcome == Outcome::kRewritten);
}

std::string kid_of(const rapidjson::Value& envelope) { return envelope["kid"].GetString(); }

std::string opened(const rapidjson::Value& envelope, std::string_view owner) {
  auto parsed = crypto::parse_envelope(envelope);
  REQUIRE(parsed.ok());
  auto text = crypto::open(kRotated, *parsed, crypto::make_aad("note_prompts", owner));
  REQUIRE(text.ok());
  return *text;
}

}  // namespace

TEST_CASE("rekey reseals old-kid envelopes under the primary with the same AAD") {
  auto document = prompt("u1", R"("description":"d","systemPrompt":{"n":1})");
  encrypt(document, kOld);
  const auto rekey = transform_of("rekey", &kRotated);

  rapidjson::Document dry;
  dry.CopyFrom(document, dry.GetAllocator());
  const auto dry_result = rekey->apply(dry, Mode::kDryRun);
  CHECK(dry_result.outcome == Outcome::kRewritten);
  CHECK(common::to_json(dry) == common::to_json(document));

  const auto result = rekey->apply(document, Mode::kLive);
  CHECK(result.outcome == Outcome::kRewritten);
  CHECK(result.fields == std::vector{FieldOutcome::kRewritten, FieldOutcome::kRewritten});
  CHECK(kid_of(document["description"]) == "k2");
  CHECK(opened(document["description"], "u1") == R"("d")");
  CHECK(opened(document["systemPrompt"], "u1") == R"({"n":1})");

  // Under the primary already: skipped, so a rerun writes nothing.
  const auto again = rekey->apply(document, Mode::kLive);
  CHECK(again.outcome == Outcome::kUnchanged);
  CHECK(again.fields == std::vector{FieldOutcome::kSkipped, FieldOutcome::kSkipped});
}

TEST_CASE("rekey counts plaintext and leaves it, and an undecryptable envelope is an error") {
  const auto rekey = transform_of("rekey", &kRotated);
  auto mixed = prompt("u1", R"("description":"plain")");
  auto sealed = prompt("u1", R"("systemPrompt":"s")");
  encrypt(sealed, kOld);
  mixed.AddMember("systemPrompt", rapidjson::Value(sealed["systemPrompt"], mixed.GetAllocator()),
                  mixed.GetAllocator());
  auto result = rekey->apply(mixed, Mode::kLive);
  CHECK(result.outcome == Outcome::kRewritten);
  CHECK(result.fields == std::vector{FieldOutcome::kLeft, FieldOutcome::kRewritten});
  CHECK(std::string(mixed["description"].GetString()) == "plain");

  auto foreign = prompt("u1", R"("description":"d","systemPrompt":"s")");
  encrypt(foreign, kForeign);
  const std::string before = common::to_json(foreign);
  result = rekey->apply(foreign, Mode::kLive);
  CHECK(result.outcome == Outcome::kError);
  CHECK(result.fields == std::vector{FieldOutcome::kError, FieldOutcome::kError});
  CHECK(result.detail.find("field description") != std::string::npos);
  CHECK(common::to_json(foreign) == before);  // left untouched

  auto builtin = prompt("__builtin__", R"("description":"d")");
  CHECK(rekey->apply(builtin, Mode::kLive).fields ==
        std::vector{FieldOutcome::kSkipped, FieldOutcome::kSkipped});
}

TEST_CASE("verify reports sound envelopes, plaintext, foreign AAD and tampering per field") {
  const auto verify = transform_of("verify", &kRotated);
  CHECK_FALSE(
      make_transform(manifest_of("verify"), manifest_of("verify").containers[0], nullptr).ok());

  auto sound = prompt("u1", R"("description":"d","systemPrompt":null)");
  encrypt(sound, kOld);
  const std::string before = common::to_json(sound);
  auto result = verify->apply(sound, Mode::kLive);
  CHECK(result.outcome == Outcome::kUnchanged);  // verify never asks for a write
  CHECK(result.fields == std::vector{FieldOutcome::kRewritten, FieldOutcome::kSkipped});
  CHECK(common::to_json(sound) == before);

  auto plaintext = prompt("u1", R"("description":"left behind","systemPrompt":"s")");
  CHECK(verify->apply(plaintext, Mode::kLive).fields ==
        std::vector{FieldOutcome::kLeft, FieldOutcome::kLeft});

  // An envelope moved to another owner's document: the AAD no longer matches.
  auto moved = prompt("u2", R"("systemPrompt":"s")");
  moved.AddMember("description", rapidjson::Value(sound["description"], moved.GetAllocator()),
                  moved.GetAllocator());
  encrypt(moved, kRotated);  // seals systemPrompt only; description is already an envelope
  result = verify->apply(moved, Mode::kLive);
  CHECK(result.fields == std::vector{FieldOutcome::kError, FieldOutcome::kRewritten});
  CHECK(result.detail.find("field description") != std::string::npos);
  CHECK(result.detail.find("d\"") == std::string::npos);  // never a value

  auto tampered = prompt("u1", R"("description":"d")");
  encrypt(tampered, kOld);
  tampered["description"]["kid"].SetString("k9");
  CHECK(verify->apply(tampered, Mode::kLive).fields[0] == FieldOutcome::kError);
  tampered["description"]["v"].SetInt(7);
  CHECK(verify->apply(tampered, Mode::kLive).fields[0] == FieldOutcome::kError);
}

}  // namespace backfilld::migrations
