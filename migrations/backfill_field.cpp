#include "migrations/backfill_field.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> BackfillField::create(const ContainerSpec& container,
                                                                 std::string updated_at) {
  std::optional<rapidjson::Document> constant;
  if (container.from_field.empty()) {
    auto parsed = common::parse_json(container.value_json);
    if (parsed && !parsed->IsNull()) constant.emplace(std::move(*parsed));
  }
  const bool no_source = container.from_field.empty() && !constant;
  auto scope = checked_scope(container, false,
                             container.fields.size() != 1 ? "needs one field"
                             : no_source                  ? "needs a value or a fromField"
                                                          : "");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new BackfillField(std::move(*scope), container, std::move(constant), std::move(updated_at)));
}

BackfillField::BackfillField(DocumentScope scope,
                             const ContainerSpec& container,
                             std::optional<rapidjson::Document> constant,
                             std::string updated_at)
    : ScopedTransform(std::move(scope), container, std::move(updated_at)),
      from_field_(container.from_field),
      constant_(std::move(constant)) {}

TransformResult BackfillField::apply_in_scope(const InScope& in, TransformResult result) const {
  result.fields[0] = FieldOutcome::kSkipped;
  if (!is_missing(common::find_member(in.document, fields_[0]))) return result;  // never overwrite
  const rapidjson::Value* source =
      constant_ ? &*constant_ : common::find_member(in.document, from_field_);
  if (is_missing(source)) return result;  // nothing to copy yet
  result.fields[0] = FieldOutcome::kRewritten;
  result.outcome = Outcome::kRewritten;
  if (in.mode == Mode::kDryRun) return result;
  rapidjson::Value copy(*source, in.allocator);
  if (rapidjson::Value* existing = find_mutable(in.document, fields_[0])) {
    *existing = copy;  // was null
  } else {
    in.document.AddMember(rapidjson::Value(fields_[0], in.allocator), copy, in.allocator);
  }
  return result;
}

}  // namespace backfilld::migrations
