#include "migrations/manifest_schema.hpp"

#include <algorithm>
#include <unordered_set>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

constexpr std::size_t kMaxProblemsReported = 20;
constexpr std::size_t kMaxCosmosIdLength = 255;

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

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

void Problems::add(std::string_view path, std::string_view rule) {
  messages_.push_back(std::string(path) + ": " + std::string(rule));
}

std::string Problems::message() const {
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

std::string_view view_of(const rapidjson::Value& string) {
  return {string.GetString(), string.GetStringLength()};
}

// Appended, not `"\"" + std::string(text)`: that trips g++ 12's -Wrestrict false positive at -O3
// (GCC PR 105329; tests/run.sh compiles this file with Release flags).
std::string in_quotes(std::string_view text) {
  std::string quoted = "\"";
  quoted += text;
  quoted += '"';
  return quoted;
}

std::string member_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

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

const rapidjson::Value* required_member(const rapidjson::Value& object,
                                        std::string_view key,
                                        const std::string& path,
                                        Problems& problems) {
  const rapidjson::Value* value = common::find_member(object, key);
  if (value == nullptr) problems.add(path, "required");
  return value;
}

std::optional<std::string> non_empty_string(const rapidjson::Value& value,
                                            const std::string& path,
                                            Problems& problems) {
  if (!value.IsString() || value.GetStringLength() == 0) {
    problems.add(path, "must be a non-empty string");
    return std::nullopt;
  }
  return std::string(view_of(value));
}

std::string top_level_field(const rapidjson::Value& json,
                            std::string_view key,
                            const std::string& parent_path,
                            Problems& problems) {
  const std::string path = member_path(parent_path, key);
  const auto* value = required_member(json, key, path, problems);
  if (value == nullptr) return {};
  auto name = non_empty_string(*value, path, problems);
  if (!name) return {};
  if (!is_top_level_field(*name)) {
    problems.add(path, "must be a top-level field name (no '/' or '.')");
    return {};
  }
  return std::move(*name);
}

bool is_cosmos_id(std::string_view id) {
  const std::size_t length = utf8_length(id);
  return length >= 1 && length <= kMaxCosmosIdLength &&
         id.find_first_of("/\\?#") == std::string_view::npos;
}

bool is_top_level_field(std::string_view name) {
  return name.find_first_of("/.") == std::string_view::npos;
}

std::string partition_key_path(const rapidjson::Value& value,
                               const std::string& path,
                               Problems& problems) {
  if (!value.IsString() || value.GetStringLength() == 0 || value.GetString()[0] != '/') {
    problems.add(path, "must be a string that starts with '/', e.g. \"/workspaceId\"");
    return {};
  }
  const std::string_view pk = view_of(value);
  if (pk.back() == '/' || pk.find("//") != std::string_view::npos) {
    problems.add(path, "must not have an empty segment");
    return {};
  }
  return std::string(pk);
}

std::string_view partition_key_field(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return {};
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

std::optional<std::string_view> preserved_reason(std::string_view field,
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

bool check_writable(const std::string& field,
                    const std::string& path,
                    std::string_view partition_key,
                    Problems& problems) {
  if (auto reason = preserved_reason(field, partition_key, {})) {
    problems.add(path,
                 in_quotes(field) + " is preserved by every backfill: " + std::string(*reason));
    return false;
  }
  if (field.size() > 2 && field.ends_with("At")) {
    problems.add(path, in_quotes(field) +
                           " is preserved by every backfill: a source timestamp (a name ending "
                           "in \"At\"); updatedAt is written only by userVisible migrations");
    return false;
  }
  return true;
}

std::string changed_field(const rapidjson::Value& json,
                          std::string_view key,
                          const std::string& path,
                          std::string_view partition_key_path,
                          std::string& accepted,
                          Problems& problems) {
  std::string field = top_level_field(json, key, path, problems);
  const std::string_view partition_key = partition_key_field(partition_key_path);
  if (!field.empty() && check_writable(field, member_path(path, key), partition_key, problems)) {
    accepted = field;
  }
  return field;
}

std::string other_field(const rapidjson::Value& json,
                        std::string_view key,
                        const std::string& path,
                        std::string_view field,
                        Problems& problems) {
  std::string other = top_level_field(json, key, path, problems);
  if (!other.empty() && other == field) {
    problems.add(member_path(path, key), "must differ from \"field\"");
  }
  return other;
}

rapidjson::Value string_value(std::string_view text, Allocator& allocator) {
  return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

}  // namespace backfilld::migrations
