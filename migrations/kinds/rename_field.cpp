#include "migrations/kinds/rename_field.hpp"

#include <array>

#include "migrations/kinds/backfill_field.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 2> kKeys = {"from", "to"};

class RenameFieldKind final : public TypedKind<RenameFieldSettings> {
 public:
  RenameFieldKind() : TypedKind({.name = "rename-field", .stamps_updated_at = true}) {}
  std::span<const std::string_view> keys() const override { return kKeys; }

 private:
  RenameFieldSettings parse_settings(const rapidjson::Value& json,
                                     const std::string& path,
                                     const ContainerSpec& container,
                                     Problems& problems) const override {
    RenameFieldSettings settings;
    settings.from = top_level_field(json, "from", path, problems);
    const std::string to =
        changed_field(json, "to", path, container.partition_key_path, settings.to, problems);
    if (!settings.to.empty() && to == settings.from) {
      problems.add(member_path(path, "to"), "must differ from \"from\"");
      settings.to.clear();
    }
    return settings;
  }

  void write_settings(const RenameFieldSettings& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const override {
    out.AddMember("from", string_value(settings.from, allocator), allocator);
    out.AddMember("to", string_value(settings.to, allocator), allocator);
  }

  std::vector<std::string> fields_of(const RenameFieldSettings& settings) const override {
    if (settings.to.empty()) return {};
    return {settings.to};
  }

  common::Result<std::unique_ptr<Transform>> make(
      const TransformInputs& inputs, const RenameFieldSettings& settings) const override {
    return BackfillField::create(
        inputs.container, {.field = settings.to, .from_field = settings.from}, inputs.updated_at);
  }
};

}  // namespace

const Kind& rename_field_kind() {
  static const RenameFieldKind kKind;
  return kKind;
}

}  // namespace backfilld::migrations
