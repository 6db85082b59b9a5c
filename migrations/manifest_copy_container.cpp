// Container schema of copy-container: {"target": {"name": "notes_by_user", "partitionKeyPath":
// "/userId", "create": true, "sampleSize": 20}}.
#include <array>

#include "daemon/common/json.hpp"
#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::array<std::string_view, 1> kKeys = {"target"};
constexpr std::array<std::string_view, 4> kTargetKeys = {"name", "partitionKeyPath", "create",
                                                         "sampleSize"};
constexpr std::uint32_t kMaxSampleSize = 1000;

void parse(const rapidjson::Value& json,
           const std::string& path,
           ContainerSpec& spec,
           Problems& problems) {
  const std::string target_path = member_path(path, "target");
  const auto* target = required_member(json, "target", target_path, problems);
  if (target == nullptr) return;
  if (!target->IsObject()) {
    problems.add(target_path, "must be an object");
    return;
  }
  check_keys(*target, target_path, {kTargetKeys}, problems);
  const std::string name_path = member_path(target_path, "name");
  if (const auto* name = required_member(*target, "name", name_path, problems)) {
    if (!name->IsString() || !is_cosmos_id(view_of(*name))) {
      problems.add(name_path, kCosmosIdRule);
    } else if (view_of(*name) == spec.name) {
      problems.add(name_path, "must differ from the source container: the source is never written");
    } else {
      spec.target.name = std::string(view_of(*name));
    }
  }
  const std::string pk_path = member_path(target_path, "partitionKeyPath");
  if (const auto* pk = required_member(*target, "partitionKeyPath", pk_path, problems)) {
    spec.target.partition_key_path = partition_key_path(*pk, pk_path, problems);
  }
  if (const auto* create = common::find_member(*target, "create")) {
    if (create->IsBool()) {
      spec.target.create = create->GetBool();
    } else {
      problems.add(member_path(target_path, "create"), "must be true or false");
    }
  }
  if (const auto* sample = common::find_member(*target, "sampleSize")) {
    if (sample->IsUint() && sample->GetUint() <= kMaxSampleSize) {
      spec.target.sample_size = sample->GetUint();
    } else {
      problems.add(member_path(target_path, "sampleSize"), "must be an integer from 0 to 1000");
    }
  }
}

void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) {
  rapidjson::Value target(rapidjson::kObjectType);
  target.AddMember("name", string_value(spec.target.name, allocator), allocator);
  target.AddMember("partitionKeyPath", string_value(spec.target.partition_key_path, allocator),
                   allocator);
  target.AddMember("create", spec.target.create, allocator);
  target.AddMember("sampleSize", spec.target.sample_size, allocator);
  out.AddMember("target", target, allocator);
}

}  // namespace

const ContainerSchema kCopyContainerSchema{kKeys, parse, write};

}  // namespace backfilld::migrations
