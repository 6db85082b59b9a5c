#pragma once
/// A migration kind as one unit: one row of the kind registry holds everything the manifest,
/// the engine and the job layer need of it (docs/ADDING_A_KIND.md). Nothing outside
/// migrations/kinds/ names a kind; the core looks rows up by the manifest's "kind".
#include <rapidjson/document.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/crypto/envelope.hpp"
#include "daemon/engine/counts.hpp"
#include "migrations/kind_checks.hpp"
#include "migrations/manifest.hpp"
#include "migrations/manifest_schema.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

/// What the engine, counts, reports and the live gate know of a kind, besides its behaviour.
struct KindInfo {
  std::string_view name;  ///< the manifest's "kind", e.g. "encrypt-fields"
  /// Counts' name for rewritten documents and values: "encrypted", "copied", "verified", ...
  std::string_view rewritten_name = "rewritten";
  /// Counts' name for values present but not this kind's to change ("plaintext", "unknown");
  /// empty when the kind has none.
  std::string_view left_name = {};
  bool needs_keys = false;         ///< a live run (and any run that never writes) needs keys
  bool writes = true;              ///< false: never writes, live or dry (verify)
  bool stamps_updated_at = false;  ///< user-visible runs stamp "updatedAt" on rewritten documents
};

/// What a kind's transform is built from (make_transform in transform.hpp fills it).
struct TransformInputs {
  const Manifest& manifest;
  const ContainerSpec& container;
  const crypto::Keyring* keyring;  ///< null: none loaded (dry runs of kinds that need keys)
  crypto::IvSource iv_source;
  std::string updated_at;  ///< what to stamp on rewritten documents; "" stamps nothing
};

/// One registry row: a kind's name and flags, its container settings in the manifest, its
/// transform factory, its counted fields and its checks before and after the scan.
class Kind {
 public:
  explicit Kind(KindInfo info) : info_(info) {}
  virtual ~Kind() = default;
  Kind(const Kind&) = delete;
  Kind& operator=(const Kind&) = delete;

  const KindInfo& info() const { return info_; }
  std::string_view name() const { return info_.name; }

  /// The container keys the kind reads, besides "name" and "partitionKeyPath".
  virtual std::span<const std::string_view> keys() const = 0;
  /// Reads the kind's settings of the container at `path` ("containers[2]"); `container` has the
  /// name and partition key path already read. Problems name the field.
  virtual KindSettings parse(const rapidjson::Value& json,
                             const std::string& path,
                             const ContainerSpec& container,
                             Problems& problems) const = 0;
  /// Writes the kind's settings of `spec` as parse reads them back.
  virtual void write(const ContainerSpec& spec,
                     rapidjson::Value& out,
                     Allocator& allocator) const = 0;
  /// The fields counted separately, in order (Transform::fields() of its transform).
  virtual std::vector<std::string> counted_fields(const ContainerSpec& spec) const = 0;
  /// The kind's transform of `inputs.container`; errors name the container.
  virtual common::Result<std::unique_ptr<Transform>> make_transform(
      const TransformInputs& inputs) const = 0;

  /// Before the first batch, and again on every resume (so idempotent). A failure fails the run
  /// before it writes. None by default.
  virtual net::awaitable<CheckReport> before_scan(cosmos::DocumentStore& store,
                                                  const CheckTarget& target) const;
  /// After the last batch of a run that succeeded; a failure fails the run. None by default.
  virtual net::awaitable<CheckReport> after_scan(cosmos::DocumentStore& store,
                                                 const CheckTarget& target,
                                                 const engine::Counts& counts) const;

 private:
  KindInfo info_;
};

/// A kind with settings of type `Settings` (copyable, equality-comparable): it implements the
/// typed hooks, this does the type erasure.
template <class Settings>
class TypedKind : public Kind {
 public:
  using Kind::Kind;

  KindSettings parse(const rapidjson::Value& json,
                     const std::string& path,
                     const ContainerSpec& container,
                     Problems& problems) const final {
    return parse_settings(json, path, container, problems);
  }
  void write(const ContainerSpec& spec, rapidjson::Value& out, Allocator& allocator) const final {
    write_settings(settings_of(spec), out, allocator);
  }
  std::vector<std::string> counted_fields(const ContainerSpec& spec) const final {
    return fields_of(settings_of(spec));
  }
  common::Result<std::unique_ptr<Transform>> make_transform(
      const TransformInputs& inputs) const final {
    return make(inputs, settings_of(inputs.container));
  }

 protected:
  /// `spec`'s settings; default ones when it holds none of this kind (the factory refuses them).
  static const Settings& settings_of(const ContainerSpec& spec) {
    static const Settings kNone{};
    const Settings* settings = spec.settings.get_if<Settings>();
    return settings != nullptr ? *settings : kNone;
  }

  virtual Settings parse_settings(const rapidjson::Value& json,
                                  const std::string& path,
                                  const ContainerSpec& container,
                                  Problems& problems) const = 0;
  virtual void write_settings(const Settings& settings,
                              rapidjson::Value& out,
                              Allocator& allocator) const = 0;
  virtual std::vector<std::string> fields_of(const Settings& settings) const = 0;
  virtual common::Result<std::unique_ptr<Transform>> make(const TransformInputs& inputs,
                                                          const Settings& settings) const = 0;
};

/// The registered kind named `name`, or nullptr.
const Kind* find_kind(std::string_view name);
/// The registered kind named `name`'s info, or nullptr.
const KindInfo* find_kind_info(std::string_view name);
/// Every registered kind: the built-in ones in documentation order, then any registered later.
std::vector<const Kind*> known_kinds();
/// `"encrypt-fields", "backfill-field", ...`: the known names, for error messages.
std::string known_kind_names();

/// Adds `kind` (which must outlive its registration) to the registry; refused when its name is
/// taken. Register before the kind is used (at start-up); lookups are thread-safe.
common::Result<void> register_kind(const Kind& kind);
/// Removes `kind`; built-in kinds stay.
void unregister_kind(const Kind& kind);

/// Registers a kind for its own lifetime (a static object for a kind that lives beside the
/// built-in ones, or a scoped one in a test). A taken name is a bug: it terminates.
class KindRegistration {
 public:
  explicit KindRegistration(const Kind& kind);
  ~KindRegistration();
  KindRegistration(const KindRegistration&) = delete;
  KindRegistration& operator=(const KindRegistration&) = delete;

 private:
  const Kind& kind_;
};

}  // namespace backfilld::migrations
