#pragma once
/// copy-container: the partition-key change. Every document is copied, as it is, to a target
/// container with another partition key path; the source is never written. The engine upserts
/// the copy keyed by id and the new partition key, so a rerun rewrites the same copies.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/kind.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

/// Where the copies go.
struct CopyTarget {
  std::string name;                ///< the target container
  std::string partition_key_path;  ///< its (new) partition key path
  bool create = false;             ///< create it when it does not exist
  std::uint32_t sample_size = 20;  ///< documents compared field by field after the copy

  bool operator==(const CopyTarget&) const = default;
};

/// {"target": {"name": "notes_by_user", "partitionKeyPath": "/userId", "create": true,
/// "sampleSize": 20}}.
struct CopyContainerSettings {
  CopyTarget target;

  bool operator==(const CopyContainerSettings&) const = default;
};

/// The copy-container row: settings CopyContainerSettings, counts "copied", no counted fields.
/// Live, before the scan it creates the target when asked and counts it (which proves it can
/// be read); after the scan it fails unless the target holds at least as many documents as the
/// source (same productId filter) and up to target.sampleSize sampled copies equal their source.
const Kind& copy_container_kind();

class CopyContainer final : public Transform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container,
                                                           const CopyTarget& target);

  const std::vector<std::string>& fields() const override { return fields_; }
  const CopyDestination* copy_destination() const override { return &destination_; }
  using Transform::apply;
  /// kMissingPartitionKey when the document lacks the target's partition key; else kRewritten
  /// (to be copied), with the server's system properties dropped in kLive mode.
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const override;

 private:
  CopyContainer(DocumentScope target_scope, CopyDestination destination);

  DocumentScope target_scope_;  ///< checks the target's partition key
  CopyDestination destination_;
  std::vector<std::string> fields_;  ///< none: whole documents
};

/// Cosmos system properties the server sets on every document: never copied.
bool is_system_property(std::string_view name);

}  // namespace backfilld::migrations
