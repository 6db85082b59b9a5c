#pragma once
/// copy-container: the partition-key change. Every document is copied, as it is, to a target
/// container with another partition key path; the source is never written. The engine upserts
/// the copy keyed by id and the new partition key, so a rerun rewrites the same copies.
#include <memory>
#include <string>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

class CopyContainer final : public Transform {
 public:
  static common::Result<std::unique_ptr<Transform>> create(const ContainerSpec& container);

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
