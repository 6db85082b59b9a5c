#include "migrations/kinds/remap_enum.hpp"

#include <algorithm>
#include <array>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 2> kKeys = {"field", "map"};

class RemapEnumKind final : public TypedKind<RemapEnumSettings> {
 public:
  RemapEnumKind()
      : TypedKind({.name = "remap-enum", .left_name = "unknown", .stamps_updated_at = true}) {}
  std::span<const std::string_view> keys() const override { return kKeys; }

 private:
  RemapEnumSettings parse_settings(const rapidjson::Value& json,
                                   const std::string& path,
                                   const ContainerSpec& container,
                                   Problems& problems) const override;

  void write_settings(const RemapEnumSettings& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const override {
    out.AddMember("field", string_value(settings.field, allocator), allocator);
    rapidjson::Value map(rapidjson::kObjectType);
    for (const auto& [from, to] : settings.value_map) {
      map.AddMember(string_value(from, allocator), string_value(to, allocator), allocator);
    }
    out.AddMember("map", map, allocator);
  }

  std::vector<std::string> fields_of(const RemapEnumSettings& settings) const override {
    if (settings.field.empty()) return {};
    return {settings.field};
  }

  common::Result<std::unique_ptr<Transform>> make(
      const TransformInputs& inputs, const RemapEnumSettings& settings) const override {
    return RemapEnum::create(inputs.container, settings, inputs.updated_at);
  }
};

RemapEnumSettings RemapEnumKind::parse_settings(const rapidjson::Value& json,
                                                const std::string& path,
                                                const ContainerSpec& container,
                                                Problems& problems) const {
  RemapEnumSettings settings;
  changed_field(json, "field", path, container.partition_key_path, settings.field, problems);
  const std::string map_path = member_path(path, "map");
  const auto* map = required_member(json, "map", map_path, problems);
  if (map == nullptr) return settings;
  if (!map->IsObject() || map->MemberCount() == 0) {
    problems.add(map_path, "must be a non-empty object of old value -> new value (strings)");
    return settings;
  }
  auto& value_map = settings.value_map;
  for (const auto& entry : map->GetObject()) {
    const std::string entry_path = member_path(map_path, view_of(entry.name));
    if (entry.name.GetStringLength() == 0) {
      problems.add(entry_path, "the old value must be a non-empty string");
      continue;
    }
    auto to = non_empty_string(entry.value, entry_path, problems);
    if (!to) continue;
    std::string from(view_of(entry.name));
    if (std::any_of(value_map.begin(), value_map.end(),
                    [&](const auto& pair) { return pair.first == from; })) {
      problems.add(entry_path, "duplicate key");
      continue;
    }
    value_map.emplace_back(std::move(from), std::move(*to));
  }
  // A value both mapped from and mapped to would be remapped again by a rerun: not idempotent.
  // (No structured binding: clang 14 cannot capture one in the lambda.)
  for (const auto& entry : value_map) {
    const std::string& to = entry.second;
    if (std::any_of(value_map.begin(), value_map.end(),
                    [&](const auto& pair) { return pair.first == to; })) {
      problems.add(
          member_path(map_path, entry.first),
          "maps to " + in_quotes(to) + ", which is itself remapped: a rerun would change it again");
    }
  }
  return settings;
}

}  // namespace

const Kind& remap_enum_kind() {
  static const RemapEnumKind kKind;
  return kKind;
}

common::Result<std::unique_ptr<Transform>> RemapEnum::create(const ContainerSpec& container,
                                                             const RemapEnumSettings& settings,
                                                             std::string updated_at) {
  auto scope = checked_scope(
      container, nullptr,
      settings.field.empty() || settings.value_map.empty() ? "needs field and map" : "");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new RemapEnum(std::move(*scope), settings, std::move(updated_at)));
}

RemapEnum::RemapEnum(DocumentScope scope, const RemapEnumSettings& settings, std::string updated_at)
    : ScopedTransform(std::move(scope), {settings.field}, std::move(updated_at)),
      value_map_(settings.value_map) {}

TransformResult RemapEnum::apply_in_scope(const InScope& in, TransformResult result) const {
  rapidjson::Value* value = find_mutable(in.document, fields_[0]);
  if (is_missing(value)) {
    result.fields[0] = FieldOutcome::kSkipped;
    return result;
  }
  const std::string_view text =
      value->IsString() ? std::string_view(value->GetString(), value->GetStringLength()) : "";
  const auto mapped = std::find_if(value_map_.begin(), value_map_.end(), [&](const auto& pair) {
    return value->IsString() && pair.first == text;
  });
  if (mapped == value_map_.end()) {
    const bool already_new =
        value->IsString() && std::any_of(value_map_.begin(), value_map_.end(),
                                         [&](const auto& pair) { return pair.second == text; });
    result.fields[0] = already_new ? FieldOutcome::kSkipped : FieldOutcome::kLeft;
    return result;
  }
  result.fields[0] = FieldOutcome::kRewritten;
  result.outcome = Outcome::kRewritten;
  if (in.mode == Mode::kDryRun) return result;
  value->SetString(mapped->second.data(), static_cast<rapidjson::SizeType>(mapped->second.size()),
                   in.allocator);
  return result;
}

}  // namespace backfilld::migrations
