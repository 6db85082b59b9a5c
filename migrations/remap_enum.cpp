#include "migrations/remap_enum.hpp"

#include <algorithm>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> RemapEnum::create(const ContainerSpec& container,
                                                             std::string updated_at) {
  auto scope = DocumentScope::create(container, false);
  if (!scope) return common::Unexpected{scope.error()};
  if (container.fields.size() != 1 || container.value_map.empty()) {
    return common::fail("invalid_manifest",
                        "container " + container.name + ": needs field and map");
  }
  return std::unique_ptr<Transform>(
      new RemapEnum(std::move(*scope), container, std::move(updated_at)));
}

RemapEnum::RemapEnum(DocumentScope scope, const ContainerSpec& container, std::string updated_at)
    : scope_(std::move(scope)),
      fields_(container.fields),
      value_map_(container.value_map),
      updated_at_(std::move(updated_at)) {}

TransformResult RemapEnum::apply(rapidjson::Value& document,
                                 rapidjson::Document::AllocatorType& allocator,
                                 Mode mode) const {
  TransformResult result{Outcome::kUnchanged, {FieldOutcome::kUntouched}, {}};
  if (auto check = scope_.check(document); check.problem) {
    result.outcome = *check.problem;
    return result;
  }
  rapidjson::Value* value = find_mutable(document, fields_[0]);
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
  if (mode == Mode::kDryRun) return result;
  value->SetString(mapped->second.data(), static_cast<rapidjson::SizeType>(mapped->second.size()),
                   allocator);
  if (!updated_at_.empty()) stamp_updated_at(document, allocator, updated_at_);
  return result;
}

}  // namespace backfilld::migrations
