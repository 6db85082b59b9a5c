#include "migrations/kinds/remove_field.hpp"

#include <array>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 2> kKeys = {"field", "requireField"};

class RemoveFieldKind final : public TypedKind<RemoveFieldSettings> {
 public:
  RemoveFieldKind() : TypedKind({.name = "remove-field", .stamps_updated_at = true}) {}
  std::span<const std::string_view> keys() const override { return kKeys; }

  net::awaitable<CheckReport> before_scan(cosmos::DocumentStore& store,
                                          const CheckTarget& target) const override;

 private:
  RemoveFieldSettings parse_settings(const rapidjson::Value& json,
                                     const std::string& path,
                                     const ContainerSpec& container,
                                     Problems& problems) const override {
    RemoveFieldSettings settings;
    const std::string field =
        changed_field(json, "field", path, container.partition_key_path, settings.field, problems);
    settings.require_field = other_field(json, "requireField", path, field, problems);
    return settings;
  }

  void write_settings(const RemoveFieldSettings& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const override {
    out.AddMember("field", string_value(settings.field, allocator), allocator);
    out.AddMember("requireField", string_value(settings.require_field, allocator), allocator);
  }

  std::vector<std::string> fields_of(const RemoveFieldSettings& settings) const override {
    if (settings.field.empty()) return {};
    return {settings.field};
  }

  common::Result<std::unique_ptr<Transform>> make(
      const TransformInputs& inputs, const RemoveFieldSettings& settings) const override {
    return RemoveField::create(inputs.container, settings, inputs.updated_at);
  }
};

net::awaitable<CheckReport> RemoveFieldKind::before_scan(cosmos::DocumentStore& store,
                                                         const CheckTarget& target) const {
  CheckReport report;
  const RemoveFieldSettings& settings = settings_of(target.spec);
  const std::string& field = settings.field;
  const std::string& required = settings.require_field;
  const QueryFilter filter(target.manifest, "IS_DEFINED(" + field_ref(field) +
                                                ") AND (NOT IS_DEFINED(" + field_ref(required) +
                                                ") OR IS_NULL(" + field_ref(required) + "))");
  const cosmos::ContainerRef source{target.database, target.spec.name};
  auto lacking = co_await count_documents(store, source, filter);
  if (!lacking) {
    report.failure = "cannot check that " + required + " is present wherever " + field +
                     " is: " + cosmos::describe(lacking.error());
    co_return report;
  }
  report.figures.emplace_back("lacking." + required, *lacking);
  if (*lacking > 0 && target.mode == Mode::kLive) {
    report.failure = "refused: " + std::to_string(*lacking) + " documents have " + field +
                     " but no " + required + "; backfill " + required +
                     " first (rename-field), then remove " + field;
  }
  co_return report;
}

}  // namespace

const Kind& remove_field_kind() {
  static const RemoveFieldKind kKind;
  return kKind;
}

common::Result<std::unique_ptr<Transform>> RemoveField::create(const ContainerSpec& container,
                                                               const RemoveFieldSettings& settings,
                                                               std::string updated_at) {
  auto scope = checked_scope(container, nullptr,
                             settings.field.empty() || settings.require_field.empty()
                                 ? "needs field and requireField"
                                 : "");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new RemoveField(std::move(*scope), settings, std::move(updated_at)));
}

RemoveField::RemoveField(DocumentScope scope,
                         const RemoveFieldSettings& settings,
                         std::string updated_at)
    : ScopedTransform(std::move(scope), {settings.field}, std::move(updated_at)),
      require_field_(settings.require_field) {}

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
