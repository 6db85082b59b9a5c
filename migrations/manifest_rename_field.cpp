// Container schema of rename-field: {"from": "tags", "to": "labels"}. Stored as fields = {to},
// from_field = from, so rename-field shares backfill-field's transform.
#include <array>

#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 2> kKeys = {"from", "to"};

void parse(const rapidjson::Value& json,
           const std::string& path,
           ContainerSpec& spec,
           Problems& problems) {
  spec.from_field = top_level_field(json, "from", path, problems);
  const std::string to = changed_field(json, "to", path, spec, problems);
  if (!spec.fields.empty() && to == spec.from_field) {
    problems.add(member_path(path, "to"), "must differ from \"from\"");
    spec.fields.clear();
  }
}

void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) {
  out.AddMember("from", string_value(spec.from_field, allocator), allocator);
  out.AddMember("to", changed_field_value(spec, allocator), allocator);
}

}  // namespace

const ContainerSchema kRenameFieldSchema{kKeys, parse, write};

}  // namespace backfilld::migrations
