#include "migrations/manifest.hpp"

#include <algorithm>
#include <array>

#include "daemon/common/json.hpp"
#include "daemon/engine/run_settings.hpp"
#include "migrations/kind.hpp"
#include "migrations/manifest_schema.hpp"

namespace backfilld::migrations {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

constexpr std::size_t kMaxIdLength = 128;

constexpr std::array<std::string_view, 10> kManifestKeys = {
    "id",        "kind",         "database",    "description", "filter",
    "batchSize", "stopCriteria", "userVisible", "rollback",    "containers"};
constexpr std::array<std::string_view, 1> kFilterKeys = {"productId"};
constexpr std::array<std::string_view, 3> kStopCriteriaKeys = {"maxErrors", "maxOwnerMismatch",
                                                               "maxMissingPartitionKey"};
constexpr std::array<std::string_view, 2> kCommonContainerKeys = {"name", "partitionKeyPath"};

/// The error of every refused manifest.
common::Unexpected<common::Error> invalid(std::string message) {
  return common::fail("invalid_manifest", std::move(message));
}

void parse_id(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* id = required_member(json, "id", "id", problems);
  if (id == nullptr) return;
  const bool valid =
      id->IsString() && id->GetStringLength() >= 1 && id->GetStringLength() <= kMaxIdLength &&
      std::all_of(id->GetString(), id->GetString() + id->GetStringLength(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
  if (!valid) {
    problems.add("id", "must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-'");
    return;
  }
  manifest.id = std::string(view_of(*id));
}

const Kind* parse_kind(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* kind = required_member(json, "kind", "kind", problems);
  if (kind == nullptr) return nullptr;
  const Kind* rules = kind->IsString() ? find_kind(view_of(*kind)) : nullptr;
  if (rules == nullptr) {
    problems.add("kind", "must be one of " + known_kind_names());
    return nullptr;
  }
  manifest.kind = std::string(rules->name());
  return rules;
}

void parse_filter(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* filter = common::find_member(json, "filter");
  if (filter == nullptr) {
    problems.add("filter",
                 "required: the plan filters by productId wherever the query allows; set "
                 "filter.productId, or null to opt out explicitly");
    return;
  }
  if (!filter->IsObject()) {
    problems.add("filter", "must be an object");
    return;
  }
  check_keys(*filter, "filter", {kFilterKeys}, problems);
  const auto* product_id = common::find_member(*filter, "productId");
  if (product_id == nullptr) {
    problems.add("filter.productId", "required: a non-empty string, or null to opt out explicitly");
  } else if (product_id->IsNull()) {
    manifest.product_id.reset();
  } else if (product_id->IsString() && product_id->GetStringLength() > 0) {
    manifest.product_id = std::string(view_of(*product_id));
  } else {
    problems.add("filter.productId", "must be a non-empty string, or null to opt out explicitly");
  }
}

void parse_batch_size(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* batch_size = common::find_member(json, "batchSize");
  if (batch_size == nullptr) return;
  if (!batch_size->IsUint() ||
      !engine::validate(engine::KnobPatch{.batch_size = batch_size->GetUint()})) {
    problems.add("batchSize",
                 "must be an integer from 1 to " + std::to_string(engine::kMaxBatchSize));
    return;
  }
  manifest.batch_size = batch_size->GetUint();
}

void parse_stop_criteria(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* stop = common::find_member(json, "stopCriteria");
  if (stop == nullptr) return;
  if (!stop->IsObject()) {
    problems.add("stopCriteria", "must be an object");
    return;
  }
  check_keys(*stop, "stopCriteria", {kStopCriteriaKeys}, problems);
  const std::array<std::pair<std::string_view, std::uint64_t*>, 3> thresholds = {{
      {"maxErrors", &manifest.stop.max_errors},
      {"maxOwnerMismatch", &manifest.stop.max_owner_mismatch},
      {"maxMissingPartitionKey", &manifest.stop.max_missing_partition_key},
  }};
  for (const auto& [key, target] : thresholds) {
    const auto* value = common::find_member(*stop, key);
    if (value == nullptr) continue;
    if (!value->IsUint64()) {
      problems.add(member_path("stopCriteria", key), "must be a non-negative integer");
      continue;
    }
    *target = value->GetUint64();
  }
}

void parse_optional_string(const rapidjson::Value& json,
                           std::string_view key,
                           std::string& target,
                           Problems& problems) {
  const auto* value = common::find_member(json, key);
  if (value == nullptr) return;
  if (!value->IsString()) {
    problems.add(key, "must be a string");
    return;
  }
  target = std::string(view_of(*value));
}

void parse_database(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* database = common::find_member(json, "database");
  if (database == nullptr) return;
  if (!database->IsString() || !is_cosmos_id(view_of(*database))) {
    problems.add("database", kCosmosIdRule);
    return;
  }
  manifest.database = std::string(view_of(*database));
}

/// userVisible and the rollback note it requires.
void parse_rollback(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  if (const auto* user_visible = common::find_member(json, "userVisible")) {
    if (user_visible->IsBool()) {
      manifest.user_visible = user_visible->GetBool();
    } else {
      problems.add("userVisible", "must be true or false");
    }
  }
  parse_optional_string(json, "rollback", manifest.rollback, problems);
  const bool blank = std::all_of(manifest.rollback.begin(), manifest.rollback.end(),
                                 [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
  if (manifest.user_visible && blank) {
    problems.add("rollback",
                 "required when userVisible is true: any migration that could affect "
                 "user-visible reads needs a rollback note before live execution");
  }
}

void parse_partition_key_path(const rapidjson::Value& json,
                              const std::string& path,
                              ContainerSpec& spec,
                              Problems& problems) {
  const std::string key_path = member_path(path, "partitionKeyPath");
  const auto* value = required_member(json, "partitionKeyPath", key_path, problems);
  if (value == nullptr) return;
  spec.partition_key_path = partition_key_path(*value, key_path, problems);
}

void parse_containers(const rapidjson::Value& json,
                      const Kind* kind,
                      Manifest& manifest,
                      Problems& problems) {
  const auto* containers = required_member(json, "containers", "containers", problems);
  if (containers == nullptr) return;
  if (!containers->IsArray() || containers->Empty()) {
    problems.add("containers", "must be a non-empty array");
    return;
  }
  for (rapidjson::SizeType i = 0; i < containers->Size(); ++i) {
    const rapidjson::Value& container = (*containers)[i];
    const std::string path = index_path("containers", i);
    if (!container.IsObject()) {
      problems.add(path, "must be an object");
      continue;
    }
    // Without a known kind its keys are unknown too; the kind's own problem is reported.
    if (kind != nullptr) {
      check_keys(container, path, {kCommonContainerKeys, kind->keys()}, problems);
    }
    ContainerSpec spec;
    const std::string name_path = member_path(path, "name");
    if (const auto* name = required_member(container, "name", name_path, problems)) {
      if (!name->IsString() || !is_cosmos_id(view_of(*name))) {
        problems.add(name_path, kCosmosIdRule);
      } else if (manifest.find_container(view_of(*name)) != nullptr) {
        problems.add(name_path, "duplicate container " + in_quotes(view_of(*name)));
      } else {
        spec.name = std::string(view_of(*name));
      }
    }
    parse_partition_key_path(container, path, spec, problems);
    if (kind != nullptr) spec.settings = kind->parse(container, path, spec, problems);
    manifest.containers.push_back(std::move(spec));
  }
}

}  // namespace

const ContainerSpec* Manifest::find_container(std::string_view name) const {
  for (const auto& container : containers) {
    if (container.name == name) return &container;
  }
  return nullptr;
}

common::Result<Manifest> parse_manifest(const rapidjson::Value& json) {
  if (!json.IsObject()) {
    return invalid("manifest: must be a JSON object");
  }
  Problems problems;
  Manifest manifest;
  check_keys(json, "", {kManifestKeys}, problems);
  parse_id(json, manifest, problems);
  const Kind* kind = parse_kind(json, manifest, problems);
  parse_database(json, manifest, problems);
  parse_optional_string(json, "description", manifest.description, problems);
  parse_filter(json, manifest, problems);
  parse_batch_size(json, manifest, problems);
  parse_stop_criteria(json, manifest, problems);
  parse_rollback(json, manifest, problems);
  parse_containers(json, kind, manifest, problems);
  if (!problems.empty()) return invalid(problems.message());
  return manifest;
}

rapidjson::Document to_json(const Manifest& manifest) {
  rapidjson::Document out(rapidjson::kObjectType);
  Allocator& allocator = out.GetAllocator();
  out.AddMember("id", string_value(manifest.id, allocator), allocator);
  out.AddMember("kind", string_value(manifest.kind, allocator), allocator);
  if (!manifest.database.empty()) {
    out.AddMember("database", string_value(manifest.database, allocator), allocator);
  }
  out.AddMember("description", string_value(manifest.description, allocator), allocator);
  rapidjson::Value filter(rapidjson::kObjectType);
  rapidjson::Value product_id;
  if (manifest.product_id) product_id = string_value(*manifest.product_id, allocator);
  filter.AddMember("productId", product_id, allocator);
  out.AddMember("filter", filter, allocator);
  out.AddMember("batchSize", manifest.batch_size, allocator);
  rapidjson::Value stop(rapidjson::kObjectType);
  stop.AddMember("maxErrors", manifest.stop.max_errors, allocator);
  stop.AddMember("maxOwnerMismatch", manifest.stop.max_owner_mismatch, allocator);
  stop.AddMember("maxMissingPartitionKey", manifest.stop.max_missing_partition_key, allocator);
  out.AddMember("stopCriteria", stop, allocator);
  out.AddMember("userVisible", manifest.user_visible, allocator);
  out.AddMember("rollback", string_value(manifest.rollback, allocator), allocator);
  const Kind* kind = find_kind(manifest.kind);
  rapidjson::Value containers(rapidjson::kArrayType);
  for (const auto& spec : manifest.containers) {
    rapidjson::Value container(rapidjson::kObjectType);
    container.AddMember("name", string_value(spec.name, allocator), allocator);
    container.AddMember("partitionKeyPath", string_value(spec.partition_key_path, allocator),
                        allocator);
    if (kind != nullptr) kind->write(spec, container, allocator);
    containers.PushBack(container, allocator);
  }
  out.AddMember("containers", containers, allocator);
  return out;
}

}  // namespace backfilld::migrations
