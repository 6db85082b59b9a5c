#include "migrations/kinds/backfill_field.hpp"

#include <array>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 3> kKeys = {"field", "value", "fromField"};

class BackfillFieldKind final : public TypedKind<BackfillFieldSettings> {
 public:
  BackfillFieldKind() : TypedKind({.name = "backfill-field", .stamps_updated_at = true}) {}
  std::span<const std::string_view> keys() const override { return kKeys; }

 private:
  BackfillFieldSettings parse_settings(const rapidjson::Value& json,
                                       const std::string& path,
                                       const ContainerSpec& container,
                                       Problems& problems) const override {
    BackfillFieldSettings settings;
    const std::string field =
        changed_field(json, "field", path, container.partition_key_path, settings.field, problems);
    const auto* value = common::find_member(json, "value");
    const bool from = common::find_member(json, "fromField") != nullptr;
    if ((value == nullptr) == !from) {
      problems.add(path, "needs exactly one of \"value\" (a constant) and \"fromField\"");
      return settings;
    }
    if (value != nullptr) {
      if (value->IsNull()) {
        problems.add(member_path(path, "value"), "must not be null (null counts as missing)");
        return settings;
      }
      settings.value_json = common::to_json(*value);
      return settings;
    }
    settings.from_field = other_field(json, "fromField", path, field, problems);
    return settings;
  }

  void write_settings(const BackfillFieldSettings& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const override {
    out.AddMember("field", string_value(settings.field, allocator), allocator);
    if (!settings.from_field.empty()) {
      out.AddMember("fromField", string_value(settings.from_field, allocator), allocator);
      return;
    }
    auto value = common::parse_json(settings.value_json);
    rapidjson::Value copy;
    if (value) copy.CopyFrom(*value, allocator);
    out.AddMember("value", copy, allocator);
  }

  std::vector<std::string> fields_of(const BackfillFieldSettings& settings) const override {
    if (settings.field.empty()) return {};
    return {settings.field};
  }

  common::Result<std::unique_ptr<Transform>> make(
      const TransformInputs& inputs, const BackfillFieldSettings& settings) const override {
    return BackfillField::create(inputs.container, settings, inputs.updated_at);
  }
};

}  // namespace

const Kind& backfill_field_kind() {
  static const BackfillFieldKind kKind;
  return kKind;
}

common::Result<std::unique_ptr<Transform>> BackfillField::create(
    const ContainerSpec& container, const BackfillFieldSettings& settings, std::string updated_at) {
  std::optional<rapidjson::Document> constant;
  if (settings.from_field.empty()) {
    auto parsed = common::parse_json(settings.value_json);
    if (parsed && !parsed->IsNull()) constant.emplace(std::move(*parsed));
  }
  const bool no_source = settings.from_field.empty() && !constant;
  auto scope = checked_scope(container, nullptr,
                             settings.field.empty() ? "needs one field"
                             : no_source            ? "needs a value or a fromField"
                                                    : "");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new BackfillField(std::move(*scope), settings, std::move(constant), std::move(updated_at)));
}

BackfillField::BackfillField(DocumentScope scope,
                             const BackfillFieldSettings& settings,
                             std::optional<rapidjson::Document> constant,
                             std::string updated_at)
    : ScopedTransform(std::move(scope), {settings.field}, std::move(updated_at)),
      from_field_(settings.from_field),
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
