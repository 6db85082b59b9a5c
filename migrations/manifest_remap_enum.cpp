// Container schema of remap-enum: {"field": "state", "map": {"proposed": "pending", ...}}.
#include <algorithm>
#include <array>

#include "daemon/common/json.hpp"
#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 2> kKeys = {"field", "map"};

void parse(const rapidjson::Value& json,
           const std::string& path,
           ContainerSpec& spec,
           Problems& problems) {
  const std::string field = changed_field(json, "field", path, spec, problems);
  const std::string map_path = member_path(path, "map");
  const auto* map = required_member(json, "map", map_path, problems);
  if (map == nullptr) return;
  if (!map->IsObject() || map->MemberCount() == 0) {
    problems.add(map_path, "must be a non-empty object of old value -> new value (strings)");
    return;
  }
  for (const auto& entry : map->GetObject()) {
    const std::string entry_path = member_path(map_path, view_of(entry.name));
    if (entry.name.GetStringLength() == 0) {
      problems.add(entry_path, "the old value must be a non-empty string");
      continue;
    }
    auto to = non_empty_string(entry.value, entry_path, problems);
    if (!to) continue;
    std::string from(view_of(entry.name));
    if (std::any_of(spec.value_map.begin(), spec.value_map.end(),
                    [&](const auto& pair) { return pair.first == from; })) {
      problems.add(entry_path, "duplicate key");
      continue;
    }
    spec.value_map.emplace_back(std::move(from), std::move(*to));
  }
  // A value both mapped from and mapped to would be remapped again by a rerun: not idempotent.
  // (No structured binding: clang 14 cannot capture one in the lambda.)
  for (const auto& entry : spec.value_map) {
    const std::string& to = entry.second;
    if (std::any_of(spec.value_map.begin(), spec.value_map.end(),
                    [&](const auto& pair) { return pair.first == to; })) {
      problems.add(
          member_path(map_path, entry.first),
          "maps to " + in_quotes(to) + ", which is itself remapped: a rerun would change it again");
    }
  }
}

void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) {
  out.AddMember("field", changed_field_value(spec, allocator), allocator);
  rapidjson::Value map(rapidjson::kObjectType);
  for (const auto& [from, to] : spec.value_map) {
    map.AddMember(string_value(from, allocator), string_value(to, allocator), allocator);
  }
  out.AddMember("map", map, allocator);
}

}  // namespace

const ContainerSchema kRemapEnumSchema{kKeys, parse, write};

}  // namespace backfilld::migrations
