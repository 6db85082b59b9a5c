#pragma once
// The partition key ranges the null backend presents (tests/bench/null_backend.cpp): K ranges
// laid over the hash V2 space exactly as the ranges layer (deploy/local/ranges/epk.mjs) and the
// service lay them, and which synthetic note falls into which range.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cosmos/types.hpp"

namespace backfilld::bench {

/// Consecutive notes share a workspace (their partition key value): notes 0..9 are in "ws-00000".
inline constexpr std::uint64_t kNotesPerWorkspace = 10;

/// The partition key value (`workspaceId`) of the notes of workspace `workspace`.
std::string workspace_id(std::uint64_t workspace);

/// The `[min, max)` EPK bounds of K ranges: "" .. "FF", split evenly over the V2 hash space
/// [0, 2^126) (V2 hashes clear the top two bits), as `initialBoundaries` of the ranges layer.
std::vector<cosmos::PartitionKeyRange> initial_ranges(int k);

/// K ranges over `documents` synthetic notes. The EPK of a workspace is computed the first time
/// a range asks for it and cached: nothing per document, at most one hash per workspace.
class NullRanges {
 public:
  NullRanges(std::uint64_t documents, int k);

  /// The index of the range with id `id` ("0".."K-1"), or nullopt.
  std::optional<std::size_t> find(std::string_view id) const;
  /// The range that note `index` falls into.
  std::size_t range_of_note(std::uint64_t index);
  /// The first note at or after `from` that lies in range `range`; `documents` when none.
  std::uint64_t next_in(std::size_t range, std::uint64_t from);
  /// How many notes lie in range `range` (one pass over the workspaces, then cached).
  std::uint64_t count_in(std::size_t range);
  /// The `GET .../pkranges` body.
  std::string pkranges_body() const;
  /// The `GET dbs/D/colls/C` body: a container hashing `/workspaceId` with hash V2.
  static std::string container_body(std::string_view id);

 private:
  std::size_t range_of_workspace(std::uint64_t workspace);

  std::uint64_t documents_;
  std::vector<cosmos::PartitionKeyRange> ranges_;
  std::vector<std::int32_t> range_of_workspace_;  // -1 until hashed
  std::vector<std::uint64_t> counts_;             // empty until count_in first asks
};

}  // namespace backfilld::bench
