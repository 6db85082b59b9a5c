#pragma once
/// The manifest parser's shared pieces: problem collection, key checks and the common value
/// rules, used by manifest.cpp and by each kind's settings parse (migrations/kinds/).
#include <rapidjson/document.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/manifest.hpp"

namespace backfilld::migrations {

using Allocator = rapidjson::Document::AllocatorType;

/// Every problem of one manifest, so an operator fixes them all in one pass.
class Problems {
 public:
  void add(std::string_view path, std::string_view rule);
  bool empty() const { return messages_.empty(); }
  /// The first 20, joined by "; ", then "and N more".
  std::string message() const;

 private:
  std::vector<std::string> messages_;
};

std::string_view view_of(const rapidjson::Value& string);
std::string in_quotes(std::string_view text);
std::string member_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

/// Refuses keys outside `allowed` (typos never pass silently, a near miss is suggested) and
/// repeated keys (RapidJSON keeps both, and which one wins would be an accident).
void check_keys(const rapidjson::Value& object,
                std::string_view path,
                std::initializer_list<std::span<const std::string_view>> allowed_groups,
                Problems& problems);

/// The member `key`, recording "required" at `path` when it is absent.
const rapidjson::Value* required_member(const rapidjson::Value& object,
                                        std::string_view key,
                                        const std::string& path,
                                        Problems& problems);

/// A non-empty string at `value`, or a recorded problem.
std::optional<std::string> non_empty_string(const rapidjson::Value& value,
                                            const std::string& path,
                                            Problems& problems);

/// A non-empty top-level field name (no '/' or '.') at `json[key]`; "" and a recorded problem
/// when it is absent or not one.
std::string top_level_field(const rapidjson::Value& json,
                            std::string_view key,
                            const std::string& parent_path,
                            Problems& problems);

/// Cosmos resource ids (databases, containers): 1 to 255 characters, none of / \ ? #.
bool is_cosmos_id(std::string_view id);
inline constexpr std::string_view kCosmosIdRule =
    "must be a valid Cosmos id: 1 to 255 characters, none of '/', '\\', '?', '#'";

bool is_top_level_field(std::string_view name);
/// "/a/b" with no empty segment, or "" and a recorded problem.
std::string partition_key_path(const rapidjson::Value& value,
                               const std::string& path,
                               Problems& problems);
/// The top-level field of a partition key path: "workspaceId" for "/workspaceId".
std::string_view partition_key_field(std::string_view path);

/// Why every backfill must leave `field` as it is (plan: "preserve id, partition key, productId,
/// owner fields, createdAt, and original source timestamps"), or nullopt.
std::optional<std::string_view> preserved_reason(std::string_view field,
                                                 std::string_view partition_key,
                                                 std::string_view user_id_field);

/// Records a problem at `path` unless `field` may be changed by a backfill; true when it may.
bool check_writable(const std::string& field,
                    const std::string& path,
                    std::string_view partition_key,
                    Problems& problems);

/// The one field a schema kind changes, read from `json[key]`: returned as read ("" when absent
/// or not a name), and stored in `accepted` only when it may be changed: absent, not a top-level
/// field or preserved by every backfill are recorded problems. `partition_key_path` is the
/// container's.
std::string changed_field(const rapidjson::Value& json,
                          std::string_view key,
                          const std::string& path,
                          std::string_view partition_key_path,
                          std::string& accepted,
                          Problems& problems);

/// Another top-level field at `json[key]` that must differ from `field`, the one changed; ""
/// and a recorded problem when it is absent or not a name.
std::string other_field(const rapidjson::Value& json,
                        std::string_view key,
                        const std::string& path,
                        std::string_view field,
                        Problems& problems);

/// An array of unique non-empty strings under `path` (non-empty unless `allow_empty_array`),
/// each also passing `check(item, item_path)`.
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

rapidjson::Value string_value(std::string_view text, Allocator& allocator);

}  // namespace backfilld::migrations
