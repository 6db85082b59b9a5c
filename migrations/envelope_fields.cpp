#include "migrations/envelope_fields.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 4> kKeys = {"fields", "context", "userIdField",
                                                   "skipOwners"};

}  // namespace

std::span<const std::string_view> EnvelopeKind::keys() const { return kKeys; }

EnvelopeFields EnvelopeKind::parse_settings(const rapidjson::Value& json,
                                            const std::string& path,
                                            const ContainerSpec& container,
                                            Problems& problems) const {
  EnvelopeFields settings;
  if (const auto* context =
          required_member(json, "context", member_path(path, "context"), problems)) {
    settings.context =
        non_empty_string(*context, member_path(path, "context"), problems).value_or("");
  }
  settings.user_id_field = top_level_field(json, "userIdField", path, problems);
  const std::string_view partition_key = partition_key_field(container.partition_key_path);
  const std::string fields_path = member_path(path, "fields");
  if (const auto* fields = required_member(json, "fields", fields_path, problems)) {
    settings.fields = unique_strings(
        *fields, fields_path, false, "field", problems,
        [&](const std::string& field, const std::string& item_path) {
          if (!is_top_level_field(field)) {
            problems.add(item_path, "must be a top-level field name (no '/' or '.')");
            return false;
          }
          if (auto reason = preserved_reason(field, partition_key, settings.user_id_field)) {
            problems.add(item_path,
                         in_quotes(field) + " must stay plaintext: " + std::string(*reason));
            return false;
          }
          return true;
        });
  }
  if (const auto* skip_owners = common::find_member(json, "skipOwners")) {
    settings.skip_owners =
        unique_strings(*skip_owners, member_path(path, "skipOwners"), true, "owner", problems,
                       [](const std::string&, const std::string&) { return true; });
  }
  return settings;
}

void EnvelopeKind::write_settings(const EnvelopeFields& settings,
                                  rapidjson::Value& out,
                                  Allocator& allocator) const {
  rapidjson::Value fields(rapidjson::kArrayType);
  for (const auto& field : settings.fields) {
    fields.PushBack(string_value(field, allocator), allocator);
  }
  out.AddMember("fields", fields, allocator);
  out.AddMember("context", string_value(settings.context, allocator), allocator);
  out.AddMember("userIdField", string_value(settings.user_id_field, allocator), allocator);
  rapidjson::Value skip_owners(rapidjson::kArrayType);
  for (const auto& owner : settings.skip_owners) {
    skip_owners.PushBack(string_value(owner, allocator), allocator);
  }
  out.AddMember("skipOwners", skip_owners, allocator);
}

}  // namespace backfilld::migrations
