#pragma once
/// The effective partition key (EPK): the hex string a partition key value hashes to, which
/// the service compares with a partition key range's bounds to route a document. Follows the
/// .NET and Java SDKs (PartitionKeyInternal), whose tests check it against the service's own.
#include <rapidjson/document.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/common/result.hpp"
#include "daemon/cosmos/types.hpp"

namespace backfilld::cosmos {

/// One component of a partition key value: one path's value in a document.
struct PartitionKeyComponent {
  enum class Kind { kUndefined, kNull, kFalse, kTrue, kNumber, kString };
  Kind kind = Kind::kUndefined;
  double number = 0;
  std::string string;  ///< UTF-8

  /// A path's value: string, number, bool or null; `{}` is "undefined" (no value at the path).
  static common::Result<PartitionKeyComponent> of(const rapidjson::Value& value);
  /// No value at the path (a document without the partition key).
  static PartitionKeyComponent undefined() { return {}; }
  /// A JSON null.
  static PartitionKeyComponent null() { return {Kind::kNull, 0, {}}; }
  /// A JSON true or false.
  static PartitionKeyComponent from_bool(bool value) {
    return {value ? Kind::kTrue : Kind::kFalse, 0, {}};
  }
  /// A JSON number, as the double it reads as.
  static PartitionKeyComponent from_number(double value) { return {Kind::kNumber, value, {}}; }
  /// A JSON string, in UTF-8.
  static PartitionKeyComponent from_string(std::string value) {
    return {Kind::kString, 0, std::move(value)};
  }
};

/// How a container hashes its partition key: the `partitionKey` object of its definition.
struct PartitionKeyDefinition {
  enum class Kind { kHash, kMultiHash };
  Kind kind = Kind::kHash;  ///< kMultiHash: a hierarchical key (several paths)
  int version = 1;          ///< hash version; absent in the definition means 1
  /// Reads `{"paths": [...], "kind": "Hash"|"MultiHash", "version": 1|2}`.
  static common::Result<PartitionKeyDefinition> from_json(const rapidjson::Value& partition_key);
};

/// The components of a partition key as the `x-ms-documentdb-partitionkey` header lists them.
common::Result<std::vector<PartitionKeyComponent>> partition_key_components(
    const PartitionKey& key);

/// Hash V1 EPK: binary encoding of [MurmurHash3_x86_32 of the components, the components],
/// strings cut to 100 UTF-16 units.
std::string effective_partition_key_v1(std::span<const PartitionKeyComponent> components);

/// Hash V2 EPK: MurmurHash3_x64_128 of all components together, 32 hex digits.
std::string effective_partition_key_v2(std::span<const PartitionKeyComponent> components);

/// MultiHash (hierarchical) EPK: each component's own V2 EPK, concatenated.
std::string effective_partition_key_multi_hash(std::span<const PartitionKeyComponent> components);

/// The EPK under a container's definition; no components gives "", the minimum.
std::string effective_partition_key(const PartitionKeyDefinition& definition,
                                    std::span<const PartitionKeyComponent> components);

/// The EPK of a partition key header value under a container's definition.
common::Result<std::string> effective_partition_key(const PartitionKeyDefinition& definition,
                                                    const PartitionKey& key);

/// The range with min_inclusive <= epk < max_exclusive ("" is the minimum, "FF" the maximum),
/// compared as the SDKs do (ordinal string comparison of uppercase hex); nullptr when none.
const PartitionKeyRange* find_range(std::span<const PartitionKeyRange> ranges,
                                    std::string_view epk);

}  // namespace backfilld::cosmos
