// Container schema of backfill-field: {"field": "archived", "value": false} or
// {"field": "ownerEmail", "fromField": "email"}.
#include <array>

#include "daemon/common/json.hpp"
#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 3> kKeys = {"field", "value", "fromField"};

void parse(const rapidjson::Value& json,
           const std::string& path,
           ContainerSpec& spec,
           Problems& problems) {
  const std::string field = changed_field(json, "field", path, spec, problems);
  const auto* value = common::find_member(json, "value");
  const bool from = common::find_member(json, "fromField") != nullptr;
  if ((value == nullptr) == !from) {
    problems.add(path, "needs exactly one of \"value\" (a constant) and \"fromField\"");
    return;
  }
  if (value != nullptr) {
    if (value->IsNull()) {
      problems.add(member_path(path, "value"), "must not be null (null counts as missing)");
      return;
    }
    spec.value_json = common::to_json(*value);
    return;
  }
  spec.from_field = other_field(json, "fromField", path, field, problems);
}

void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) {
  out.AddMember("field", changed_field_value(spec, allocator), allocator);
  if (!spec.from_field.empty()) {
    out.AddMember("fromField", string_value(spec.from_field, allocator), allocator);
    return;
  }
  auto value = common::parse_json(spec.value_json);
  rapidjson::Value copy;
  if (value) copy.CopyFrom(*value, allocator);
  out.AddMember("value", copy, allocator);
}

}  // namespace

const ContainerSchema kBackfillFieldSchema{kKeys, parse, write};

}  // namespace backfilld::migrations
