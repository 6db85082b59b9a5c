#include "migrations/kinds/copy_container.hpp"

#include <rapidjson/pointer.h>
#include <spdlog/spdlog.h>

#include <array>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 1> kKeys = {"target"};
constexpr std::array<std::string_view, 4> kTargetKeys = {"name", "partitionKeyPath", "create",
                                                         "sampleSize"};
constexpr std::uint32_t kMaxSampleSize = 1000;

/// Strips what the server sets, so a source document and its copy compare equal.
void strip_system_properties(rapidjson::Value& document) {
  for (auto it = document.MemberBegin(); it != document.MemberEnd();) {
    if (is_system_property({it->name.GetString(), it->name.GetStringLength()})) {
      it = document.EraseMember(it);
    } else {
      ++it;
    }
  }
}

class CopyContainerKind final : public TypedKind<CopyContainerSettings> {
 public:
  CopyContainerKind() : TypedKind({.name = "copy-container", .rewritten_name = "copied"}) {}
  std::span<const std::string_view> keys() const override { return kKeys; }

  net::awaitable<CheckReport> before_scan(cosmos::DocumentStore& store,
                                          const CheckTarget& target) const override;
  net::awaitable<CheckReport> after_scan(cosmos::DocumentStore& store,
                                         const CheckTarget& target,
                                         const engine::Counts& counts) const override;

 private:
  CopyContainerSettings parse_settings(const rapidjson::Value& json,
                                       const std::string& path,
                                       const ContainerSpec& container,
                                       Problems& problems) const override;
  void write_settings(const CopyContainerSettings& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const override {
    rapidjson::Value target(rapidjson::kObjectType);
    target.AddMember("name", string_value(settings.target.name, allocator), allocator);
    target.AddMember("partitionKeyPath",
                     string_value(settings.target.partition_key_path, allocator), allocator);
    target.AddMember("create", settings.target.create, allocator);
    target.AddMember("sampleSize", settings.target.sample_size, allocator);
    out.AddMember("target", target, allocator);
  }
  std::vector<std::string> fields_of(const CopyContainerSettings&) const override { return {}; }
  common::Result<std::unique_ptr<Transform>> make(
      const TransformInputs& inputs, const CopyContainerSettings& settings) const override {
    return CopyContainer::create(inputs.container, settings.target);
  }
};

CopyContainerSettings CopyContainerKind::parse_settings(const rapidjson::Value& json,
                                                        const std::string& path,
                                                        const ContainerSpec& container,
                                                        Problems& problems) const {
  CopyContainerSettings settings;
  CopyTarget& copy = settings.target;
  const std::string target_path = member_path(path, "target");
  const auto* target = required_member(json, "target", target_path, problems);
  if (target == nullptr) return settings;
  if (!target->IsObject()) {
    problems.add(target_path, "must be an object");
    return settings;
  }
  check_keys(*target, target_path, {kTargetKeys}, problems);
  const std::string name_path = member_path(target_path, "name");
  if (const auto* name = required_member(*target, "name", name_path, problems)) {
    if (!name->IsString() || !is_cosmos_id(view_of(*name))) {
      problems.add(name_path, kCosmosIdRule);
    } else if (view_of(*name) == container.name) {
      problems.add(name_path, "must differ from the source container: the source is never written");
    } else {
      copy.name = std::string(view_of(*name));
    }
  }
  const std::string pk_path = member_path(target_path, "partitionKeyPath");
  if (const auto* pk = required_member(*target, "partitionKeyPath", pk_path, problems)) {
    copy.partition_key_path = partition_key_path(*pk, pk_path, problems);
  }
  if (const auto* create = common::find_member(*target, "create")) {
    if (create->IsBool()) {
      copy.create = create->GetBool();
    } else {
      problems.add(member_path(target_path, "create"), "must be true or false");
    }
  }
  if (const auto* sample = common::find_member(*target, "sampleSize")) {
    if (sample->IsUint() && sample->GetUint() <= kMaxSampleSize) {
      copy.sample_size = sample->GetUint();
    } else {
      problems.add(member_path(target_path, "sampleSize"), "must be an integer from 0 to 1000");
    }
  }
  return settings;
}

net::awaitable<CheckReport> CopyContainerKind::before_scan(cosmos::DocumentStore& store,
                                                           const CheckTarget& target) const {
  CheckReport report;
  const CopyTarget& copy = settings_of(target.spec).target;
  if (target.mode != Mode::kLive) co_return report;
  if (copy.create) {
    auto created =
        co_await store.create_container(target.database, copy.name, copy.partition_key_path);
    if (!created) {
      report.failure =
          "cannot create target container " + copy.name + ": " + cosmos::describe(created.error());
      co_return report;
    }
    if (*created) spdlog::info("created container {} ({})", copy.name, copy.partition_key_path);
  }
  const cosmos::ContainerRef destination{target.database, copy.name};
  const QueryFilter all(target.manifest, "");
  auto before = co_await count_documents(store, destination, all);
  if (!before) {
    report.failure = "target container " + copy.name + " cannot be read" +
                     (copy.create ? "" : " (set target.create to create it)") + ": " +
                     cosmos::describe(before.error());
    co_return report;
  }
  report.figures.emplace_back("targetCountBefore", *before);
  co_return report;
}

net::awaitable<CheckReport> CopyContainerKind::after_scan(cosmos::DocumentStore& store,
                                                          const CheckTarget& target,
                                                          const engine::Counts&) const {
  CheckReport report;
  const CopyTarget& copy = settings_of(target.spec).target;
  const cosmos::ContainerRef source{target.database, target.spec.name};
  const cosmos::ContainerRef destination{target.database, copy.name};
  if (target.mode != Mode::kLive) co_return report;
  const QueryFilter all(target.manifest, "");
  auto source_count = co_await count_documents(store, source, all);
  auto target_count = co_await count_documents(store, destination, all);
  if (!source_count || !target_count) {
    report.failure = "cannot count for validation: " +
                     cosmos::describe(!source_count ? source_count.error() : target_count.error());
    co_return report;
  }
  report.figures.emplace_back("sourceCount", *source_count);
  report.figures.emplace_back("targetCount", *target_count);
  if (*target_count < *source_count) {
    report.failure = "target " + copy.name + " has " + std::to_string(*target_count) +
                     " documents, source " + target.spec.name + " " +
                     std::to_string(*source_count) +
                     ": copies are missing (rerun: it is idempotent)";
    co_return report;
  }
  if (copy.sample_size == 0) co_return report;
  cosmos::QueryRequest sample_request{
      .container = source,
      .query = "SELECT * FROM c" + (all.where.empty() ? "" : " WHERE " + all.where),
      .parameters_json = all.parameters_json(),
      .max_item_count = static_cast<int>(copy.sample_size)};
  auto sample = co_await store.query_documents(sample_request);
  if (!sample) {
    report.failure = "cannot read the sample: " + cosmos::describe(sample.error());
    co_return report;
  }
  const rapidjson::Pointer key_pointer(copy.partition_key_path.c_str());
  std::uint64_t compared = 0;
  std::uint64_t mismatches = 0;
  std::string first_mismatch;
  for (auto& original : sample->documents().GetArray()) {
    if (compared >= copy.sample_size) break;
    const auto id = common::string_member(original, "id");
    const rapidjson::Value* key = key_pointer.Get(original);
    if (!id || key == nullptr || key->IsNull()) continue;  // not copied: counted in the run
    ++compared;
    auto copied = co_await store.read_document(destination, *id, cosmos::PartitionKey::of(*key));
    bool same = false;
    if (copied) {
      strip_system_properties(original);
      strip_system_properties(copied->document);
      same = original == copied->document;
    }
    if (!same) {
      ++mismatches;
      if (first_mismatch.empty()) first_mismatch = std::string(*id);
    }
  }
  report.figures.emplace_back("sampleCompared", compared);
  report.figures.emplace_back("sampleMismatches", mismatches);
  if (mismatches > 0) {
    report.failure = std::to_string(mismatches) + " of " + std::to_string(compared) +
                     " sampled copies differ from their source (first: " + first_mismatch + ")";
  }
  co_return report;
}

}  // namespace

const Kind& copy_container_kind() {
  static const CopyContainerKind kKind;
  return kKind;
}

bool is_system_property(std::string_view name) {
  constexpr std::array<std::string_view, 5> kSystem = {"_rid", "_self", "_etag", "_attachments",
                                                       "_ts"};
  return std::find(kSystem.begin(), kSystem.end(), name) != kSystem.end();
}

common::Result<std::unique_ptr<Transform>> CopyContainer::create(const ContainerSpec& container,
                                                                 const CopyTarget& target) {
  if (target.name.empty() || target.name == container.name) {
    return common::fail("invalid_manifest",
                        "container " + container.name + ": needs a target other than itself");
  }
  const ContainerSpec keyed_by_target{container.name, target.partition_key_path};
  auto scope = DocumentScope::create(keyed_by_target, nullptr);
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(new CopyContainer(
      std::move(*scope), CopyDestination{target.name, target.partition_key_path}));
}

CopyContainer::CopyContainer(DocumentScope target_scope, CopyDestination destination)
    : target_scope_(std::move(target_scope)), destination_(std::move(destination)) {}

TransformResult CopyContainer::apply(rapidjson::Value& document,
                                     rapidjson::Document::AllocatorType&,
                                     Mode mode) const {
  TransformResult result;
  if (auto check = target_scope_.check(document); check.problem) {
    result.outcome = *check.problem;
    return result;
  }
  result.outcome = Outcome::kRewritten;
  if (mode == Mode::kDryRun) return result;
  for (auto it = document.MemberBegin(); it != document.MemberEnd();) {
    if (is_system_property({it->name.GetString(), it->name.GetStringLength()})) {
      it = document.EraseMember(it);
    } else {
      ++it;
    }
  }
  return result;
}

}  // namespace backfilld::migrations
