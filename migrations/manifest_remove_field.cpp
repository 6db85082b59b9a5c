// Container schema of remove-field: {"field": "tags", "requireField": "labels"}.
#include <array>

#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 2> kKeys = {"field", "requireField"};

void parse(const rapidjson::Value& json,
           const std::string& path,
           ContainerSpec& spec,
           Problems& problems) {
  const std::string field = changed_field(json, "field", path, spec, problems);
  spec.require_field = other_field(json, "requireField", path, field, problems);
}

void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) {
  out.AddMember("field", changed_field_value(spec, allocator), allocator);
  out.AddMember("requireField", string_value(spec.require_field, allocator), allocator);
}

}  // namespace

const ContainerSchema kRemoveFieldSchema{kKeys, parse, write};

}  // namespace backfilld::migrations
