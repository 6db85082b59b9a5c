#include "migrations/remove_field.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> RemoveField::create(const ContainerSpec& container,
                                                               std::string updated_at) {
  auto scope = DocumentScope::create(container, false);
  if (!scope) return common::Unexpected{scope.error()};
  if (container.fields.size() != 1 || container.require_field.empty()) {
    return common::fail("invalid_manifest",
                        "container " + container.name + ": needs field and requireField");
  }
  return std::unique_ptr<Transform>(
      new RemoveField(std::move(*scope), container, std::move(updated_at)));
}

RemoveField::RemoveField(DocumentScope scope,
                         const ContainerSpec& container,
                         std::string updated_at)
    : scope_(std::move(scope)),
      fields_(container.fields),
      require_field_(container.require_field),
      updated_at_(std::move(updated_at)) {}

TransformResult RemoveField::apply(rapidjson::Value& document,
                                   rapidjson::Document::AllocatorType& allocator,
                                   Mode mode) const {
  TransformResult result{Outcome::kUnchanged, {FieldOutcome::kUntouched}, {}};
  if (auto check = scope_.check(document); check.problem) {
    result.outcome = *check.problem;
    return result;
  }
  if (common::find_member(document, fields_[0]) == nullptr) {
    result.fields[0] = FieldOutcome::kSkipped;
    return result;
  }
  if (is_missing(common::find_member(document, require_field_))) {
    result.fields[0] = FieldOutcome::kError;
    result.outcome = Outcome::kError;
    result.detail =
        "field " + fields_[0] + " is present but " + require_field_ + " is missing: not removed";
    return result;
  }
  result.fields[0] = FieldOutcome::kRewritten;
  result.outcome = Outcome::kRewritten;
  if (mode == Mode::kDryRun) return result;
  document.RemoveMember(fields_[0].c_str());
  if (!updated_at_.empty()) stamp_updated_at(document, allocator, updated_at_);
  return result;
}

}  // namespace backfilld::migrations
