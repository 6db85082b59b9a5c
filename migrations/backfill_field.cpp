#include "migrations/backfill_field.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> BackfillField::create(const ContainerSpec& container,
                                                                 std::string updated_at) {
  auto scope = DocumentScope::create(container, false);
  if (!scope) return common::Unexpected{scope.error()};
  if (container.fields.size() != 1) {
    return common::fail("invalid_manifest", "container " + container.name + ": needs one field");
  }
  std::optional<rapidjson::Document> constant;
  if (container.from_field.empty()) {
    auto parsed = common::parse_json(container.value_json);
    if (!parsed || parsed->IsNull()) {
      return common::fail("invalid_manifest",
                          "container " + container.name + ": needs a value or a fromField");
    }
    constant.emplace(std::move(*parsed));
  }
  return std::unique_ptr<Transform>(
      new BackfillField(std::move(*scope), container, std::move(constant), std::move(updated_at)));
}

BackfillField::BackfillField(DocumentScope scope,
                             const ContainerSpec& container,
                             std::optional<rapidjson::Document> constant,
                             std::string updated_at)
    : scope_(std::move(scope)),
      fields_(container.fields),
      from_field_(container.from_field),
      constant_(std::move(constant)),
      updated_at_(std::move(updated_at)) {}

TransformResult BackfillField::apply(rapidjson::Value& document,
                                     rapidjson::Document::AllocatorType& allocator,
                                     Mode mode) const {
  TransformResult result{Outcome::kUnchanged, {FieldOutcome::kUntouched}, {}};
  if (auto check = scope_.check(document); check.problem) {
    result.outcome = *check.problem;
    return result;
  }
  result.fields[0] = FieldOutcome::kSkipped;
  if (!is_missing(common::find_member(document, fields_[0]))) return result;  // never overwrite
  const rapidjson::Value* source =
      constant_ ? &*constant_ : common::find_member(document, from_field_);
  if (is_missing(source)) return result;  // nothing to copy yet
  result.fields[0] = FieldOutcome::kRewritten;
  result.outcome = Outcome::kRewritten;
  if (mode == Mode::kDryRun) return result;
  rapidjson::Value copy(*source, allocator);
  if (rapidjson::Value* existing = find_mutable(document, fields_[0])) {
    *existing = copy;  // was null
  } else {
    document.AddMember(rapidjson::Value(fields_[0], allocator), copy, allocator);
  }
  if (!updated_at_.empty()) stamp_updated_at(document, allocator, updated_at_);
  return result;
}

}  // namespace backfilld::migrations
