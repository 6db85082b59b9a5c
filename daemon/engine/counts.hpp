#pragma once
/// The counts of a job, per document and per mapped field, as the plan names them.
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <vector>

#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

/// Per mapped field: values rewritten (encrypted), skipped, in error, or left (plaintext for
/// rekey and verify, unknown for remap-enum).
struct FieldCounts {
  std::uint64_t rewritten = 0;
  std::uint64_t skipped = 0;
  std::uint64_t errors = 0;
  std::uint64_t left = 0;
  bool operator==(const FieldCounts&) const = default;
};

/// Per job: documents by outcome, and each field's counts in manifest order.
struct Counts {
  std::uint64_t scanned = 0;
  std::uint64_t rewritten = 0;  ///< documents written back ("encrypted" for encryption kinds)
  std::uint64_t skipped = 0;    ///< documents left as they were: nothing to do
  std::uint64_t errors = 0;
  std::uint64_t owner_mismatch = 0;
  std::uint64_t missing_partition_key = 0;
  std::vector<FieldCounts> fields;

  Counts() = default;
  explicit Counts(std::size_t field_count) : fields(field_count) {}
  bool operator==(const Counts&) const = default;

  /// Adds one document's final result.
  void add(const migrations::TransformResult& result);
  /// Adds a document whose write failed for good: an error, its rewritten fields errors too.
  void add_write_failure(const migrations::TransformResult& result);
  Counts& operator+=(const Counts& other);

  /// The first stop criterion these counts cross, as a reason ("errors 1 > maxErrors 0"), or "".
  std::string crossed(const migrations::StopCriteria& stop) const;
};

/// JSON: {"scanned":..,"<verb>":..,"skipped":..,"errors":..,"ownerMismatch":..,
/// "missingPartitionKey":..,"fields":{"body":{"<verb>":..,"skipped":..,"errors":..}}}
/// where <verb> is the kind's rewritten name (migrations::KindInfo); each field also has
/// "<left>": .. when the kind names one ("plaintext", "unknown").
rapidjson::Value counts_to_json(const Counts& counts,
                                const std::vector<std::string>& field_names,
                                std::string_view rewritten_name,
                                rapidjson::Document::AllocatorType& allocator,
                                std::string_view left_name = {});

/// Reads counts back (checkpoints); missing members read as 0.
Counts counts_from_json(const rapidjson::Value& json,
                        const std::vector<std::string>& field_names,
                        std::string_view rewritten_name,
                        std::string_view left_name = {});

}  // namespace backfilld::engine
