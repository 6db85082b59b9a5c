#pragma once
/// The checks every kind makes before it touches a document: the partition key is there and,
/// for kinds keyed by an owner, the owner is usable and not one that is left alone.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/result.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

/// "/a/b" -> {"a", "b"}; nullopt unless it starts with '/' and has no empty segment.
std::optional<std::vector<std::string>> split_path(std::string_view path);

/// The value at `segments` under `root`, or nullptr.
const rapidjson::Value* find_path(const rapidjson::Value& root,
                                  const std::vector<std::string>& segments);

/// The member `name` of `object`, mutable, or nullptr.
rapidjson::Value* find_mutable(rapidjson::Value& object, std::string_view name);

/// Absent or null: what every kind treats as "missing".
bool is_missing(const rapidjson::Value* value);

/// The "invalid_manifest" error "container <name>: <message>".
common::Unexpected<common::Error> invalid_container(const ContainerSpec& container,
                                                    std::string_view message);

/// Who owns a document, for kinds keyed by owner: the owner field, and owners left alone.
struct OwnerRule {
  std::string user_id_field;
  std::vector<std::string> skip_owners;
};

class DocumentScope {
 public:
  /// `owner` null: not keyed by owner. Errors (code "invalid_manifest") name the container and
  /// the partition key path or the empty owner field.
  static common::Result<DocumentScope> create(const ContainerSpec& container,
                                              const OwnerRule* owner);

  struct Check {
    std::optional<Outcome> problem = {};  ///< kMissingPartitionKey or kOwnerMismatch: leave it
    bool owner_skipped = false;   ///< the owner is in skipOwners: leave it, count as skipped
    std::string_view owner = {};  ///< the owner's id, when keyed by owner
  };
  Check check(const rapidjson::Value& document) const;

 private:
  std::vector<std::string> partition_key_segments_;
  std::string user_id_field_;  ///< empty: not keyed by owner
  std::vector<std::string> skip_owners_;
};

/// Sets "updatedAt" to `now`: only user-visible migrations do, and only on documents they
/// rewrite (plan: write updatedAt only when the application semantics require it).
void stamp_updated_at(rapidjson::Value& document,
                      rapidjson::Document::AllocatorType& allocator,
                      const std::string& now);

}  // namespace backfilld::migrations
