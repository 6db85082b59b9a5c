// Test-only bridge for tests/interop/interop.mjs: backfilld's envelope code behind JSON lines.
// The keyring comes from the environment exactly as the daemon loads it (load_keyring). Each line
// on stdin is one request, answered by one line on stdout:
//   {"op":"seal","context":C,"userId":U,"value":V}
//     -> {"ok":true,"envelope":{...},"aadHex":"..."}          (encrypt_in_place, random IV)
//   {"op":"open","context":C,"userId":U,"envelope":E}
//     -> {"ok":true,"plaintext":"<JSON text>"}                 (parse_envelope + open)
//   {"op":"encrypt-document","container":{...},"document":D}
//     -> {"ok":true,"outcome":"rewritten","fields":[...],"document":{...}}  (EncryptFields, live)
// Failures answer {"ok":false,"error":{"code":...,"message":...}}. It prints plaintext, which the
// daemon never does: it is a test fixture, not a tool to run against real data.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/common/json.hpp"
#include "daemon/crypto/envelope.hpp"
#include "daemon/crypto/keyring.hpp"
#include "migrations/envelope_fields.hpp"
#include "migrations/transform.hpp"
#include "tests/support/hex.hpp"

namespace backfilld::interop {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

std::string_view string_of(const rapidjson::Value& object, const char* name) {
  auto value = common::string_member(object, name);
  return value ? *value : std::string_view();
}

rapidjson::Value text_value(std::string_view text, Allocator& allocator) {
  return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

rapidjson::Document error_reply(const common::Error& error) {
  rapidjson::Document reply(rapidjson::kObjectType);
  auto& allocator = reply.GetAllocator();
  rapidjson::Value detail(rapidjson::kObjectType);
  detail.AddMember("code", text_value(error.code, allocator), allocator);
  detail.AddMember("message", text_value(error.message, allocator), allocator);
  reply.AddMember("ok", false, allocator);
  reply.AddMember("error", detail, allocator);
  return reply;
}

using testing::hex_of;

rapidjson::Document seal(const crypto::Keyring& keyring, rapidjson::Document& request) {
  const std::string_view context = string_of(request, "context");
  const std::string_view user_id = string_of(request, "userId");
  auto value = request.FindMember("value");
  if (value == request.MemberEnd()) return error_reply({"bad_request", "value is missing"});
  auto sealed = crypto::encrypt_in_place(keyring, context, user_id, crypto::random_iv(),
                                         value->value, request.GetAllocator());
  if (!sealed.ok()) return error_reply(sealed.error());
  rapidjson::Document reply(rapidjson::kObjectType);
  auto& allocator = reply.GetAllocator();
  reply.AddMember("ok", true, allocator);
  reply.AddMember("envelope", rapidjson::Value(value->value, allocator), allocator);
  reply.AddMember("aadHex", text_value(hex_of(crypto::make_aad(context, user_id)), allocator),
                  allocator);
  return reply;
}

rapidjson::Document open(const crypto::Keyring& keyring, const rapidjson::Document& request) {
  const rapidjson::Value* envelope_json = common::find_member(request, "envelope");
  if (envelope_json == nullptr) return error_reply({"bad_request", "envelope is missing"});
  auto envelope = crypto::parse_envelope(*envelope_json);
  if (!envelope.ok()) return error_reply(envelope.error());
  auto plaintext =
      crypto::open(keyring, *envelope,
                   crypto::make_aad(string_of(request, "context"), string_of(request, "userId")));
  if (!plaintext.ok()) return error_reply(plaintext.error());
  rapidjson::Document reply(rapidjson::kObjectType);
  auto& allocator = reply.GetAllocator();
  reply.AddMember("ok", true, allocator);
  reply.AddMember("plaintext", text_value(*plaintext, allocator), allocator);
  return reply;
}

std::vector<std::string> strings_of(const rapidjson::Value& object, const char* name) {
  std::vector<std::string> strings;
  const rapidjson::Value* array = common::find_member(object, name);
  if (array == nullptr || !array->IsArray()) return strings;
  for (const auto& item : array->GetArray()) {
    if (item.IsString()) strings.emplace_back(item.GetString(), item.GetStringLength());
  }
  return strings;
}

const char* name_of(migrations::Outcome outcome) {
  switch (outcome) {
    case migrations::Outcome::kUnchanged:
      return "unchanged";
    case migrations::Outcome::kRewritten:
      return "rewritten";
    case migrations::Outcome::kError:
      return "error";
    case migrations::Outcome::kOwnerMismatch:
      return "ownerMismatch";
    case migrations::Outcome::kMissingPartitionKey:
      return "missingPartitionKey";
  }
  return "?";
}

const char* name_of(migrations::FieldOutcome outcome) {
  switch (outcome) {
    case migrations::FieldOutcome::kRewritten:
      return "rewritten";
    case migrations::FieldOutcome::kSkipped:
      return "skipped";
    case migrations::FieldOutcome::kError:
      return "error";
    case migrations::FieldOutcome::kUntouched:
      return "untouched";
    case migrations::FieldOutcome::kLeft:
      return "left";
  }
  return "?";
}

rapidjson::Document encrypt_document(const crypto::Keyring& keyring, rapidjson::Document& request) {
  const rapidjson::Value* container_json = common::find_member(request, "container");
  auto document_member = request.FindMember("document");
  if (container_json == nullptr || document_member == request.MemberEnd()) {
    return error_reply({"bad_request", "container or document is missing"});
  }
  migrations::ContainerSpec container{
      std::string(string_of(*container_json, "name")),
      std::string(string_of(*container_json, "partitionKeyPath")),
      migrations::EnvelopeFields{strings_of(*container_json, "fields"),
                                 std::string(string_of(*container_json, "context")),
                                 std::string(string_of(*container_json, "userIdField")),
                                 strings_of(*container_json, "skipOwners")}};
  migrations::Manifest manifest;
  manifest.kind = "encrypt-fields";
  auto transform = migrations::make_transform(manifest, container, &keyring);
  if (!transform.ok()) return error_reply(transform.error());

  rapidjson::Document document;
  document.CopyFrom(document_member->value, document.GetAllocator());
  const migrations::TransformResult result = (*transform)->apply(document, migrations::Mode::kLive);

  rapidjson::Document reply(rapidjson::kObjectType);
  auto& allocator = reply.GetAllocator();
  reply.AddMember("ok", true, allocator);
  reply.AddMember("outcome", rapidjson::StringRef(name_of(result.outcome)), allocator);
  rapidjson::Value fields(rapidjson::kArrayType);
  for (auto field : result.fields) fields.PushBack(rapidjson::StringRef(name_of(field)), allocator);
  reply.AddMember("fields", fields, allocator);
  reply.AddMember("detail", text_value(result.detail, allocator), allocator);
  reply.AddMember("document", rapidjson::Value(document, allocator), allocator);
  return reply;
}

/// Answers every request line on stdin with one line on stdout.
int serve() {
  auto keyring = crypto::load_keyring(common::process_env());
  if (!keyring.ok()) {
    std::fprintf(stderr, "envelope_tool: %s\n", keyring.error().message.c_str());
    return 2;
  }
  std::string line;
  std::string out;
  while (std::getline(std::cin, line)) {
    auto request = common::parse_json(line);
    rapidjson::Document reply;
    if (!request.ok()) {
      reply = error_reply(request.error());
    } else {
      const std::string_view op = string_of(*request, "op");
      if (op == "seal") {
        reply = seal(**keyring, *request);
      } else if (op == "open") {
        reply = open(**keyring, *request);
      } else if (op == "encrypt-document") {
        reply = encrypt_document(**keyring, *request);
      } else {
        reply = error_reply({"bad_request", "unknown op"});
      }
    }
    out.clear();
    common::append_json(reply, out);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace
}  // namespace backfilld::interop

int main() { return backfilld::interop::serve(); }
