#pragma once
/// The manifest: one migration, expanded into one job per container, run in manifest order.
#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/result.hpp"

namespace backfilld::migrations {

/// The kind that encrypts top-level fields in place (envelope v1); the only kind today.
inline constexpr std::string_view kEncryptFieldsKind = "encrypt-fields";

/// Thresholds of the plan's step 6: a count above its maximum fails the job at once.
struct StopCriteria {
  std::uint64_t max_errors = 0;
  std::uint64_t max_owner_mismatch = 0;
  std::uint64_t max_missing_partition_key = 0;

  bool operator==(const StopCriteria&) const = default;
};

/// One container of a manifest and its kind-specific settings.
struct ContainerSpec {
  std::string name;
  std::string partition_key_path;  ///< e.g. "/workspaceId"
  // encrypt-fields
  std::vector<std::string> fields;       ///< top-level field names to encrypt, in order
  std::string context;                   ///< AAD context, e.g. "palace-memory"
  std::string user_id_field;             ///< owner field, e.g. "userId"
  std::vector<std::string> skip_owners;  ///< owners whose documents are left alone ("__builtin__")

  bool operator==(const ContainerSpec&) const = default;
};

/// A validated manifest.
struct Manifest {
  std::string id;
  std::string kind;      ///< "encrypt-fields"
  std::string database;  ///< empty: COSMOS_DATABASE decides
  std::string description;
  std::optional<std::string> product_id;  ///< the productId filter; set unless explicitly null
  std::uint32_t batch_size = 50;
  StopCriteria stop;
  std::string rollback;
  bool user_visible = false;
  std::vector<ContainerSpec> containers;

  /// The container named `name`, or nullptr.
  const ContainerSpec* find_container(std::string_view name) const;

  /// Same migration, same settings: e.g. a live run matches the dry run it relies on.
  bool operator==(const Manifest&) const = default;
};

/// Validates `json`. Errors (code "invalid_manifest") name the field: "containers[2].fields[0]:
/// must be a non-empty string".
common::Result<Manifest> parse_manifest(const rapidjson::Value& json);

/// Reads and validates the manifest file at `path`. Errors (code "invalid_manifest") name the
/// path, and the line and column of a JSON syntax error.
common::Result<Manifest> load_manifest_file(const std::string& path);

/// The JSON form parse_manifest reads back to an equal Manifest, every default written out: what
/// the daemon stores with a job's state.
rapidjson::Document to_json(const Manifest& manifest);

}  // namespace backfilld::migrations
