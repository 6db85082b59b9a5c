#pragma once
/// The manifest: one migration, expanded into one job per container, run in manifest order.
#include <rapidjson/document.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/common/result.hpp"

namespace backfilld::migrations {

/// The migration kinds (docs/MANIFEST.md describes each).
inline constexpr std::string_view kEncryptFieldsKind = "encrypt-fields";
inline constexpr std::string_view kBackfillFieldKind = "backfill-field";
inline constexpr std::string_view kRenameFieldKind = "rename-field";
inline constexpr std::string_view kRemoveFieldKind = "remove-field";
inline constexpr std::string_view kRemapEnumKind = "remap-enum";
inline constexpr std::string_view kCopyContainerKind = "copy-container";
inline constexpr std::string_view kRekeyKind = "rekey";
inline constexpr std::string_view kVerifyKind = "verify";

/// What the engine, counts and reports need to know of a kind.
struct KindInfo {
  std::string_view name;
  /// Counts' name for rewritten documents and values: "encrypted", "copied", "verified", ...
  std::string_view rewritten_name = "rewritten";
  /// Counts' name for values present but not this kind's to change ("plaintext", "unknown");
  /// empty when the kind has none.
  std::string_view left_name = {};
  bool needs_keys = false;  ///< a live run (and any verify run) needs the keyring
  bool writes = true;       ///< false: never writes, live or dry (verify)
};

/// The kind named `name`, or nullptr.
const KindInfo* find_kind_info(std::string_view name);
/// Every known kind, in documentation order.
std::span<const KindInfo> known_kinds();

/// copy-container: where the copies go.
struct CopyTarget {
  std::string name;                ///< the target container
  std::string partition_key_path;  ///< its (new) partition key path
  bool create = false;             ///< create it when it does not exist
  std::uint32_t sample_size = 20;  ///< documents compared field by field after the copy

  bool operator==(const CopyTarget&) const = default;
};

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
  /// The fields counted separately, in order: encrypt-fields, rekey, verify: the mapped fields;
  /// backfill-field, rename-field, remove-field, remap-enum: the one field they change.
  std::vector<std::string> fields;
  // encrypt-fields, rekey, verify
  std::string context;                   ///< AAD context, e.g. "palace-memory"
  std::string user_id_field;             ///< owner field, e.g. "userId"
  std::vector<std::string> skip_owners;  ///< owners whose documents are left alone ("__builtin__")
  // backfill-field (either one), rename-field (from_field): where the new value comes from
  std::string from_field = {};
  std::string value_json = {};  ///< the constant, as JSON text
  // remove-field: the field that must be present wherever the removed one is
  std::string require_field = {};
  // remap-enum: old value -> new value, in manifest order
  std::vector<std::pair<std::string, std::string>> value_map = {};
  // copy-container
  CopyTarget target = {};

  bool operator==(const ContainerSpec&) const = default;
};

/// A validated manifest.
struct Manifest {
  std::string id;
  std::string kind;      ///< one of the k*Kind names
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
