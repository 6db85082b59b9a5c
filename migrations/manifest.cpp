#include "migrations/manifest.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <unordered_set>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kMaxCosmosIdLength = 255;
constexpr std::uint32_t kMaxBatchSize = 1000;
constexpr std::size_t kMaxProblemsReported = 20;
constexpr std::size_t kMaxManifestFileBytes = 1024 * 1024;

constexpr std::array<std::string_view, 10> kManifestKeys = {
    "id",        "kind",         "database",    "description", "filter",
    "batchSize", "stopCriteria", "userVisible", "rollback",    "containers"};
constexpr std::array<std::string_view, 1> kFilterKeys = {"productId"};
constexpr std::array<std::string_view, 3> kStopCriteriaKeys = {"maxErrors", "maxOwnerMismatch",
                                                               "maxMissingPartitionKey"};
constexpr std::array<std::string_view, 2> kCommonContainerKeys = {"name", "partitionKeyPath"};
constexpr std::array<std::string_view, 4> kEncryptFieldsContainerKeys = {
    "fields", "context", "userIdField", "skipOwners"};

/// Every problem of one manifest, so an operator fixes them all in one pass.
class Problems {
 public:
  void add(std::string_view path, std::string_view rule) {
    messages_.push_back(std::string(path) + ": " + std::string(rule));
  }
  bool empty() const { return messages_.empty(); }
  std::string message() const {
    std::string out;
    const std::size_t shown = std::min(messages_.size(), kMaxProblemsReported);
    for (std::size_t i = 0; i < shown; ++i) {
      if (i > 0) out += "; ";
      out += messages_[i];
    }
    if (messages_.size() > shown) {
      out += "; and " + std::to_string(messages_.size() - shown) + " more";
    }
    return out;
  }

 private:
  std::vector<std::string> messages_;
};

/// The error of every refused manifest.
common::Unexpected<common::Error> invalid(std::string message) {
  return common::fail("invalid_manifest", std::move(message));
}

std::string_view view_of(const rapidjson::Value& string) {
  return {string.GetString(), string.GetStringLength()};
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string member_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

/// Edit distance, to suggest the key a typo meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_field_rule(std::string_view key, std::span<const std::string_view> allowed) {
  std::string_view best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : allowed) {
    // Two edits catch a swapped pair of letters; short names would match anything at two.
    const std::size_t tolerance = candidate.size() >= 5 ? 2 : 1;
    const std::size_t distance = edit_distance(key, candidate);
    if (distance <= tolerance && (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return "unknown field (did you mean " + in_quotes(best) + "?)";
  std::string rule = "unknown field; known fields: ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) rule += ", ";
    rule += allowed[i];
  }
  return rule;
}

/// Refuses keys outside `allowed` (typos never pass silently) and repeated keys (RapidJSON keeps
/// both, and which one wins would be an accident).
void check_keys(const rapidjson::Value& object,
                std::string_view path,
                std::initializer_list<std::span<const std::string_view>> allowed_groups,
                Problems& problems) {
  std::vector<std::string_view> allowed;
  for (auto group : allowed_groups) allowed.insert(allowed.end(), group.begin(), group.end());
  std::unordered_set<std::string_view> seen;
  for (const auto& member : object.GetObject()) {
    const std::string_view key = view_of(member.name);
    const std::string key_path = member_path(path, key);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      problems.add(key_path, unknown_field_rule(key, allowed));
    } else if (!seen.insert(key).second) {
      problems.add(key_path, "duplicate key");
    }
  }
}

/// The member `key`, recording "required" when it is absent.
const rapidjson::Value* required_member(const rapidjson::Value& object,
                                        std::string_view key,
                                        const std::string& path,
                                        Problems& problems) {
  const rapidjson::Value* value = common::find_member(object, key);
  if (value == nullptr) problems.add(path, "required");
  return value;
}

/// A non-empty string at `value`, or a recorded problem.
std::optional<std::string> non_empty_string(const rapidjson::Value& value,
                                            const std::string& path,
                                            Problems& problems) {
  if (!value.IsString() || value.GetStringLength() == 0) {
    problems.add(path, "must be a non-empty string");
    return std::nullopt;
  }
  return std::string(view_of(value));
}

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

/// Cosmos resource ids (databases, containers): 1 to 255 characters, none of / \ ? #.
bool is_cosmos_id(std::string_view id) {
  const std::size_t length = utf8_length(id);
  return length >= 1 && length <= kMaxCosmosIdLength &&
         id.find_first_of("/\\?#") == std::string_view::npos;
}

constexpr std::string_view kCosmosIdRule =
    "must be a valid Cosmos id: 1 to 255 characters, none of '/', '\\', '?', '#'";

bool is_top_level_field(std::string_view name) {
  return name.find_first_of("/.") == std::string_view::npos;
}

/// The top-level field of a partition key path: "workspaceId" for "/workspaceId".
std::string_view partition_key_field(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return {};
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

/// Why `field` must stay plaintext, or nullopt when it may be encrypted. The plan: "Do not encrypt
/// fields used for partitioning, ownership checks, filtering, sorting, idempotency, correlation,
/// or operational routing", and preserve id, partition key, productId, owner fields, createdAt.
std::optional<std::string_view> plaintext_reason(std::string_view field,
                                                 std::string_view partition_key,
                                                 std::string_view user_id_field) {
  if (field == "id") return "it is the document id";
  if (!partition_key.empty() && field == partition_key) {
    return "it is the partition key field (Cosmos routes every read and write by it)";
  }
  if (field == "productId") return "it is the productId filter field";
  if (!user_id_field.empty() && field == user_id_field) {
    return "it is the userIdField (ownership checks and the encryption AAD read it)";
  }
  if (field == "userId" || field == "createdBy" || field == "ownerId" || field == "workspaceId") {
    return "it is an owner or scope field (ownership checks read it)";
  }
  if (field == "createdAt" || field == "updatedAt") {
    return "it is a timestamp the plan preserves";
  }
  if (field == "ttl") return "Cosmos reads it to expire documents";
  if (field.starts_with('_')) return "it is a Cosmos system property";
  return std::nullopt;
}

/// A non-empty array of unique non-empty strings under `path`, each also checked by `check`.
template <class Check>
std::vector<std::string> unique_strings(const rapidjson::Value& value,
                                        const std::string& path,
                                        bool allow_empty_array,
                                        std::string_view duplicate_noun,
                                        Problems& problems,
                                        Check check) {
  std::vector<std::string> out;
  if (!value.IsArray() || (!allow_empty_array && value.Empty())) {
    problems.add(path, allow_empty_array ? "must be an array of strings"
                                         : "must be a non-empty array of strings");
    return out;
  }
  for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
    const std::string item_path = index_path(path, i);
    auto item = non_empty_string(value[i], item_path, problems);
    if (!item) continue;
    if (std::find(out.begin(), out.end(), *item) != out.end()) {
      problems.add(item_path, "duplicate " + std::string(duplicate_noun) + " " + in_quotes(*item));
      continue;
    }
    if (!check(*item, item_path)) continue;
    out.push_back(std::move(*item));
  }
  return out;
}

void parse_encrypt_fields_container(const rapidjson::Value& json,
                                    const std::string& path,
                                    ContainerSpec& spec,
                                    Problems& problems) {
  if (const auto* context =
          required_member(json, "context", member_path(path, "context"), problems)) {
    spec.context = non_empty_string(*context, member_path(path, "context"), problems).value_or("");
  }
  const std::string user_id_path = member_path(path, "userIdField");
  if (const auto* user_id = required_member(json, "userIdField", user_id_path, problems)) {
    auto name = non_empty_string(*user_id, user_id_path, problems);
    if (name && !is_top_level_field(*name)) {
      problems.add(user_id_path, "must be a top-level field name (no '/' or '.')");
    } else if (name) {
      spec.user_id_field = std::move(*name);
    }
  }
  const std::string_view partition_key = partition_key_field(spec.partition_key_path);
  const std::string fields_path = member_path(path, "fields");
  if (const auto* fields = required_member(json, "fields", fields_path, problems)) {
    spec.fields = unique_strings(
        *fields, fields_path, false, "field", problems,
        [&](const std::string& field, const std::string& item_path) {
          if (!is_top_level_field(field)) {
            problems.add(item_path, "must be a top-level field name (no '/' or '.')");
            return false;
          }
          if (auto reason = plaintext_reason(field, partition_key, spec.user_id_field)) {
            problems.add(item_path,
                         in_quotes(field) + " must stay plaintext: " + std::string(*reason));
            return false;
          }
          return true;
        });
  }
  if (const auto* skip_owners = common::find_member(json, "skipOwners")) {
    spec.skip_owners =
        unique_strings(*skip_owners, member_path(path, "skipOwners"), true, "owner", problems,
                       [](const std::string&, const std::string&) { return true; });
  }
}

void write_encrypt_fields_container(const ContainerSpec& spec,
                                    rapidjson::Value& out,
                                    Allocator& allocator) {
  rapidjson::Value fields(rapidjson::kArrayType);
  for (const auto& field : spec.fields) {
    fields.PushBack(rapidjson::Value(field, allocator), allocator);
  }
  out.AddMember("fields", fields, allocator);
  out.AddMember("context", rapidjson::Value(spec.context, allocator), allocator);
  out.AddMember("userIdField", rapidjson::Value(spec.user_id_field, allocator), allocator);
  rapidjson::Value skip_owners(rapidjson::kArrayType);
  for (const auto& owner : spec.skip_owners) {
    skip_owners.PushBack(rapidjson::Value(owner, allocator), allocator);
  }
  out.AddMember("skipOwners", skip_owners, allocator);
}

/// What a migration kind adds to each container: its keys, how to read and write them. A new kind
/// is one more row of kKinds.
struct KindRules {
  std::string_view name;
  std::span<const std::string_view> container_keys;
  void (*parse_container)(const rapidjson::Value&, const std::string&, ContainerSpec&, Problems&);
  void (*write_container)(const ContainerSpec&, rapidjson::Value&, Allocator&);
};

constexpr std::array<KindRules, 1> kKinds = {
    KindRules{kEncryptFieldsKind, kEncryptFieldsContainerKeys, parse_encrypt_fields_container,
              write_encrypt_fields_container},
};

const KindRules* find_kind(std::string_view name) {
  for (const auto& kind : kKinds) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::string known_kinds() {
  std::string out;
  for (const auto& kind : kKinds) {
    if (!out.empty()) out += ", ";
    out += in_quotes(kind.name);
  }
  return out;
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

const KindRules* parse_kind(const rapidjson::Value& json, Manifest& manifest, Problems& problems) {
  const auto* kind = required_member(json, "kind", "kind", problems);
  if (kind == nullptr) return nullptr;
  const KindRules* rules = kind->IsString() ? find_kind(view_of(*kind)) : nullptr;
  if (rules == nullptr) {
    problems.add("kind", "must be one of " + known_kinds());
    return nullptr;
  }
  manifest.kind = std::string(rules->name);
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
  if (!batch_size->IsUint() || batch_size->GetUint() < 1 || batch_size->GetUint() > kMaxBatchSize) {
    problems.add("batchSize", "must be an integer from 1 to 1000");
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
  if (!value->IsString() || value->GetStringLength() == 0 || value->GetString()[0] != '/') {
    problems.add(key_path, "must be a string that starts with '/', e.g. \"/workspaceId\"");
    return;
  }
  const std::string_view pk = view_of(*value);
  if (pk.back() == '/' || pk.find("//") != std::string_view::npos) {
    problems.add(key_path, "must not have an empty segment");
    return;
  }
  spec.partition_key_path = std::string(pk);
}

void parse_containers(const rapidjson::Value& json,
                      const KindRules* kind,
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
      check_keys(container, path, {kCommonContainerKeys, kind->container_keys}, problems);
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
    if (kind != nullptr) kind->parse_container(container, path, spec, problems);
    manifest.containers.push_back(std::move(spec));
  }
}

rapidjson::Value string_value(const std::string& text, Allocator& allocator) {
  return rapidjson::Value(text, allocator);
}

/// A line:column position of byte `offset` in `text`, both from 1.
std::string line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column =
      offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
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
  const KindRules* kind = parse_kind(json, manifest, problems);
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

common::Result<Manifest> load_manifest_file(const std::string& path) {
  const std::string where = "manifest file " + in_quotes(path) + ": ";
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error) return invalid(where + "cannot read: " + error.message());
  if (!std::filesystem::is_regular_file(status)) {
    return invalid(where + "cannot read: not a regular file");
  }
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
  if (file == nullptr) {
    return invalid(where + "cannot read: " + std::strerror(errno));
  }
  std::string text;
  std::array<char, 8192> buffer;
  while (const std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get())) {
    text.append(buffer.data(), read);
    if (text.size() > kMaxManifestFileBytes) {
      return invalid(where + "larger than 1 MiB");
    }
  }
  if (std::ferror(file.get()) != 0) {
    return invalid(where + "cannot read: " + std::strerror(errno));
  }
  rapidjson::Document document;
  document.Parse<common::kJsonParseFlags>(text.data(), text.size());
  if (document.HasParseError()) {
    const std::size_t offset = document.GetErrorOffset();
    return invalid(where + "invalid JSON at offset " + std::to_string(offset) + " (" +
                   line_and_column(text, offset) +
                   "): " + rapidjson::GetParseError_En(document.GetParseError()));
  }
  auto manifest = parse_manifest(document);
  if (!manifest) return invalid(where + manifest.error().message);
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
  const KindRules* kind = find_kind(manifest.kind);
  rapidjson::Value containers(rapidjson::kArrayType);
  for (const auto& spec : manifest.containers) {
    rapidjson::Value container(rapidjson::kObjectType);
    container.AddMember("name", string_value(spec.name, allocator), allocator);
    container.AddMember("partitionKeyPath", string_value(spec.partition_key_path, allocator),
                        allocator);
    if (kind != nullptr) kind->write_container(spec, container, allocator);
    containers.PushBack(container, allocator);
  }
  out.AddMember("containers", containers, allocator);
  return out;
}

}  // namespace backfilld::migrations
