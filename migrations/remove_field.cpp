#include "migrations/remove_field.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> RemoveField::create(const ContainerSpec& container,
                                                               std::string updated_at) {
  auto scope = checked_scope(container, false,
                             container.fields.size() != 1 || container.require_field.empty()
                                 ? "needs field and requireField"
                                 : "");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new RemoveField(std::move(*scope), container, std::move(updated_at)));
}

RemoveField::RemoveField(DocumentScope scope,
                         const ContainerSpec& container,
                         std::string updated_at)
    : ScopedTransform(std::move(scope), container, std::move(updated_at)),
      require_field_(container.require_field) {}

TransformResult RemoveField::apply_in_scope(const InScope& in, TransformResult result) const {
  if (common::find_member(in.document, fields_[0]) == nullptr) {
    result.fields[0] = FieldOutcome::kSkipped;
    return result;
  }
  if (is_missing(common::find_member(in.document, require_field_))) {
    result.fields[0] = FieldOutcome::kError;
    result.outcome = Outcome::kError;
    result.detail =
        "field " + fields_[0] + " is present but " + require_field_ + " is missing: not removed";
    return result;
  }
  result.fields[0] = FieldOutcome::kRewritten;
  result.outcome = Outcome::kRewritten;
  if (in.mode == Mode::kDryRun) return result;
  in.document.RemoveMember(fields_[0].c_str());
  return result;
}

}  // namespace backfilld::migrations
