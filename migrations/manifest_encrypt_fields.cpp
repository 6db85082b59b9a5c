// Container schema of the envelope kinds: encrypt-fields, and rekey and verify, which read the
// same field map.
#include <array>

#include "daemon/common/json.hpp"
#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 4> kKeys = {"fields", "context", "userIdField",
                                                   "skipOwners"};

void parse(const rapidjson::Value& json,
           const std::string& path,
           ContainerSpec& spec,
           Problems& problems) {
  if (const auto* context =
          required_member(json, "context", member_path(path, "context"), problems)) {
    spec.context = non_empty_string(*context, member_path(path, "context"), problems).value_or("");
  }
  spec.user_id_field = top_level_field(json, "userIdField", path, problems);
  const std::string_view partition_key = partition_key_field(spec.partition_key_path);
  const std::string fields_path = member_path(path, "fields");
  if (const auto* fields = required_member(json, "fields", fields_path, problems)) {
    spec.fields = unique_strings(
        *fields, fields_path, false, "field", problems,
        [&](const std::string& field, const std::string& item_path) {
          if (!is_top_level_field(field)) {
            problems.add(item_path, "must be a top-level field name (no '/' or '.')");
            return false;
          }
          if (auto reason = preserved_reason(field, partition_key, spec.user_id_field)) {
            problems.add(item_path,
                         in_quotes(field) + " must stay plaintext: " + std::string(*reason));
            return false;
          }
          return true;
        });
  }
  if (const auto* skip_owners = common::find_member(json, "skipOwners")) {
    spec.skip_owners =
        unique_strings(*skip_owners, member_path(path, "skipOwners"), true, "owner", problems,
                       [](const std::string&, const std::string&) { return true; });
  }
}

void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) {
  rapidjson::Value fields(rapidjson::kArrayType);
  for (const auto& field : spec.fields) fields.PushBack(string_value(field, allocator), allocator);
  out.AddMember("fields", fields, allocator);
  out.AddMember("context", string_value(spec.context, allocator), allocator);
  out.AddMember("userIdField", string_value(spec.user_id_field, allocator), allocator);
  rapidjson::Value skip_owners(rapidjson::kArrayType);
  for (const auto& owner : spec.skip_owners) {
    skip_owners.PushBack(string_value(owner, allocator), allocator);
  }
  out.AddMember("skipOwners", skip_owners, allocator);
}

}  // namespace

const ContainerSchema kEnvelopeFieldsSchema{kKeys, parse, write};

}  // namespace backfilld::migrations
