#pragma once
/// Where a scan of a container stands, range by range: one position per partition key range,
/// each with its own continuation, and what becomes of a position whose range split. Pure, so
/// splits, merges and resumes are tested without a store.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "daemon/cosmos/types.hpp"

namespace backfilld::engine {

/// The scan of one partition key range (or part of one): what a checkpoint keeps per range.
struct RangePosition {
  /// The range queried; empty: the whole container as one cross-partition query (a checkpoint
  /// written before scans went range by range continues so).
  std::string range_id;
  std::string min_inclusive;  ///< the EPK bounds this position covers
  std::string max_exclusive;
  std::string continuation;   ///< of its next page; empty: from the start (or finished)
  bool finished = false;      ///< its last page is done, or it split (see split_into)
  std::uint64_t scanned = 0;  ///< documents this position scanned
  std::uint64_t batches = 0;
  /// The ranges it split into: it is finished, its children carry on from its continuation.
  std::vector<std::string> split_into = {};
  /// It covers only part of its range (the range merged with another): its queries name its
  /// bounds (x-ms-start-epk, x-ms-end-epk).
  bool partial = false;

  bool pinned() const { return !range_id.empty(); }
  /// Its identity among positions: a range id alone can cover two positions after a merge.
  std::string key() const { return range_id + "@" + min_inclusive; }
};

/// One position per range, from the start, ordered by EPK.
std::vector<RangePosition> initial_positions(std::span<const cosmos::PartitionKeyRange> ranges);

/// What a position whose range answered "gone" becomes, given the ranges listed now.
struct Successors {
  /// The range is still listed: the split is not visible yet; wait and ask again.
  bool still_listed = false;
  /// Every listed range overlapping the position's bounds, narrowed to them, each from the
  /// position's continuation (the Change Feed Processor's rule: a child continues its parent).
  std::vector<RangePosition> children;
};
Successors successors(const RangePosition& gone, std::span<const cosmos::PartitionKeyRange> ranges);

/// Replaces the position with key `gone_key` by `children` (in its place, EPK order kept) and
/// marks it finished and split. Returns false when no such position is left.
bool apply_split(std::vector<RangePosition>& positions,
                 const std::string& gone_key,
                 std::vector<RangePosition> children);

/// Whether every position is finished.
bool all_finished(std::span<const RangePosition> positions);

}  // namespace backfilld::engine
