#include "daemon/engine/range_positions.hpp"

#include <algorithm>

namespace backfilld::engine {
namespace {

/// EPK order: "" is the minimum, "FF" the maximum; otherwise ordinal, as the SDKs compare.
bool epk_less(const std::string& a, const std::string& b) {
  if (a == b) return false;
  if (a == "FF") return false;
  if (b == "FF") return true;
  return a < b;
}

const std::string& epk_max(const std::string& a, const std::string& b) {
  return epk_less(a, b) ? b : a;
}

const std::string& epk_min(const std::string& a, const std::string& b) {
  return epk_less(a, b) ? a : b;
}

}  // namespace

std::vector<RangePosition> initial_positions(std::span<const cosmos::PartitionKeyRange> ranges) {
  std::vector<RangePosition> positions;
  positions.reserve(ranges.size());
  for (const cosmos::PartitionKeyRange& range : ranges) {
    RangePosition& position = positions.emplace_back();
    position.range_id = range.id;
    position.min_inclusive = range.min_inclusive;
    position.max_exclusive = range.max_exclusive;
  }
  std::sort(positions.begin(), positions.end(), [](const auto& a, const auto& b) {
    return epk_less(a.min_inclusive, b.min_inclusive);
  });
  return positions;
}

Successors successors(const RangePosition& gone,
                      std::span<const cosmos::PartitionKeyRange> ranges) {
  Successors result;
  for (const cosmos::PartitionKeyRange& range : ranges) {
    if (range.id == gone.range_id) {
      result.still_listed = true;
      result.children.clear();
      return result;
    }
    const std::string& low = epk_max(range.min_inclusive, gone.min_inclusive);
    const std::string& high = epk_min(range.max_exclusive, gone.max_exclusive);
    if (!epk_less(low, high)) continue;  // no overlap
    RangePosition& child = result.children.emplace_back();
    child.range_id = range.id;
    child.min_inclusive = low;
    child.max_exclusive = high;
    child.continuation = gone.continuation;
    child.partial = low != range.min_inclusive || high != range.max_exclusive;
  }
  std::sort(result.children.begin(), result.children.end(), [](const auto& a, const auto& b) {
    return epk_less(a.min_inclusive, b.min_inclusive);
  });
  return result;
}

bool apply_split(std::vector<RangePosition>& positions,
                 const std::string& gone_key,
                 std::vector<RangePosition> children) {
  const auto it = std::find_if(positions.begin(), positions.end(),
                               [&](const RangePosition& p) { return p.key() == gone_key; });
  if (it == positions.end()) return false;
  it->finished = true;
  it->split_into.clear();
  for (const RangePosition& child : children) it->split_into.push_back(child.range_id);
  positions.insert(std::next(it), std::make_move_iterator(children.begin()),
                   std::make_move_iterator(children.end()));
  return true;
}

bool all_finished(std::span<const RangePosition> positions) {
  return std::all_of(positions.begin(), positions.end(),
                     [](const RangePosition& p) { return p.finished; });
}

}  // namespace backfilld::engine
