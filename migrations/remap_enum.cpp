#include "migrations/remap_enum.hpp"

#include <algorithm>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> RemapEnum::create(const ContainerSpec& container,
                                                             std::string updated_at) {
  auto scope = checked_scope(
      container, false,
      container.fields.size() != 1 || container.value_map.empty() ? "needs field and map" : "");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new RemapEnum(std::move(*scope), container, std::move(updated_at)));
}

RemapEnum::RemapEnum(DocumentScope scope, const ContainerSpec& container, std::string updated_at)
    : ScopedTransform(std::move(scope), container, std::move(updated_at)),
      value_map_(container.value_map) {}

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
