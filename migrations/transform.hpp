#pragma once
/// Transforms are pure functions over one document: document in -> unchanged, rewritten, or a
/// classified problem. One Transform per kind; the engine knows only this interface.
#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/common/result.hpp"
#include "daemon/crypto/envelope.hpp"
#include "migrations/manifest.hpp"

namespace backfilld::migrations {

/// What happened to one mapped field of one document.
enum class FieldOutcome : std::uint8_t {
  kRewritten,  ///< value changed (encrypted, set, remapped...); for verify: checked and sound
  kSkipped,    ///< absent, null, already done, or the document is left alone by rule
  kError,      ///< value cannot be processed (e.g. malformed or undecryptable envelope)
  kUntouched,  ///< the document was classified as a problem before this field was looked at
  kLeft,       ///< present but not this kind's to change: counted and left (KindInfo::left_name)
};

/// Document-level result.
enum class Outcome : std::uint8_t {
  kUnchanged,            ///< nothing to write
  kRewritten,            ///< write the document back
  kError,                ///< left untouched, counted in errors
  kOwnerMismatch,        ///< no usable owner: left untouched
  kMissingPartitionKey,  ///< no partition key value: left untouched
};

struct TransformResult {
  Outcome outcome = Outcome::kUnchanged;
  std::vector<FieldOutcome> fields;  ///< aligned with Transform::fields()
  /// Why, for kError: names the field and the problem, never a value.
  std::string detail;
};

/// Dry runs classify and count exactly as live runs do, but never change the document.
enum class Mode : std::uint8_t { kLive, kDryRun };

/// Where a rewritten document is written when not back in place: copy-container upserts it into
/// another container (same database), keyed by its id and the target's partition key.
struct CopyDestination {
  std::string container;
  std::string partition_key_path;
};

class Transform {
 public:
  virtual ~Transform() = default;
  /// nullptr: a rewritten document is replaced in place, conditional on its etag (every kind but
  /// copy-container). Otherwise it is upserted there and the source is never written.
  virtual const CopyDestination* copy_destination() const { return nullptr; }
  /// The fields this transform counts separately, in manifest order.
  virtual const std::vector<std::string>& fields() const = 0;
  /// Applies the transform to `document` (an object inside a page, allocated by `allocator`).
  /// In kLive mode it is modified only when the outcome is kRewritten; in kDryRun never.
  virtual TransformResult apply(rapidjson::Value& document,
                                rapidjson::Document::AllocatorType& allocator,
                                Mode mode) const = 0;
  /// The same, for a document that owns its allocator.
  TransformResult apply(rapidjson::Document& document, Mode mode) const {
    return apply(document, document.GetAllocator(), mode);
  }
};

/// Builds the transform of `manifest.kind` for `container`. `keyring` may be null for dry runs
/// of kinds that need keys (they then classify without encrypting); verify always needs it.
/// `iv_source` is fixed only in tests. `updated_at` (ISO 8601) is what user-visible migrations
/// write to "updatedAt" of the documents they rewrite; they are refused without it.
common::Result<std::unique_ptr<Transform>> make_transform(
    const Manifest& manifest,
    const ContainerSpec& container,
    const crypto::Keyring* keyring,
    crypto::IvSource iv_source = crypto::random_iv,
    std::string updated_at = {});

}  // namespace backfilld::migrations
