#pragma once
/// The manifest: one migration, expanded into one job per container, run in manifest order.
#include <rapidjson/document.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/result.hpp"
#include "migrations/kind_settings.hpp"

namespace backfilld::migrations {

/// Thresholds of the plan's step 6: a count above its maximum fails the job at once.
struct StopCriteria {
  std::uint64_t max_errors = 0;
  std::uint64_t max_owner_mismatch = 0;
  std::uint64_t max_missing_partition_key = 0;

  bool operator==(const StopCriteria&) const = default;
};

/// One container of a manifest: what every kind has, and the kind's own settings.
struct ContainerSpec {
  std::string name;
  std::string partition_key_path;  ///< e.g. "/workspaceId"
  /// The kind's settings struct (migrations/kinds/<kind>.hpp), as its manifest parse made it.
  KindSettings settings = {};

  bool operator==(const ContainerSpec&) const = default;
};

/// A validated manifest.
struct Manifest {
  std::string id;
  std::string kind;      ///< a registered kind's name (migrations/kind.hpp)
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

/// Reads and validates the manifest file at `path` as named: for a path the operator gives
/// (`run --manifest`), which is trusted. Errors (code "invalid_manifest") name the path, and the
/// line and column of a JSON syntax error. (manifest_file.cpp)
common::Result<Manifest> load_manifest_file(const std::string& path);

/// Reads and validates the manifest `relative` inside `directory`: for a name from a request
/// (manifestPath under --manifest-dir). Opened by common::open_beneath, so a name that leaves
/// the directory (`..`, an absolute path, a symlink pointing out) is refused with code
/// "forbidden"; links that stay inside (a ConfigMap's `..data/`) are followed. Other errors as
/// load_manifest_file's.
common::Result<Manifest> load_manifest_beneath(const std::filesystem::path& directory,
                                               const std::string& relative);

/// Validates the text of a manifest file (1 MiB at most); `where` names the file in errors
/// (code "invalid_manifest"), with the line and column of a JSON syntax error.
common::Result<Manifest> parse_manifest_text(std::string_view text, std::string_view where);

/// The JSON form parse_manifest reads back to an equal Manifest, every default written out: what
/// the daemon stores with a job's state.
rapidjson::Document to_json(const Manifest& manifest);

}  // namespace backfilld::migrations
