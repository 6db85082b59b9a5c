#pragma once
/// The partition key ranges of the fake store: K ranges over the hash V2 space as the service
/// lays them out ("" .. "FF", even boundaries below 0x40.., V2 hashes clear the top two bits),
/// split on command like the service splits a hot range: two children with new ids.
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/cosmos/effective_partition_key.hpp"

namespace backfilld::testing {

class FakeRanges {
 public:
  FakeRanges() { reset(1); }

  /// K fresh ranges "0".."K-1".
  void reset(int count) {
    ranges_.clear();
    next_id_ = count;
    for (int i = 0; i < count; ++i) {
      const std::uint64_t step = kSpace / static_cast<std::uint64_t>(count);
      ranges_.push_back({std::to_string(i),
                         i == 0 ? "" : bound(step * static_cast<std::uint64_t>(i)),
                         i == count - 1 ? "FF" : bound(step * static_cast<std::uint64_t>(i + 1)),
                         {}});
    }
  }

  const std::vector<cosmos::PartitionKeyRange>& list() const { return ranges_; }

  const cosmos::PartitionKeyRange* find(const std::string& id) const {
    for (const auto& range : ranges_) {
      if (range.id == id) return &range;
    }
    return nullptr;
  }

  /// Splits range `id` at its midpoint into two children with new ids; false when not listed.
  bool split(const std::string& id) {
    for (auto it = ranges_.begin(); it != ranges_.end(); ++it) {
      if (it->id != id) continue;
      const cosmos::PartitionKeyRange parent = *it;
      const std::string middle =
          bound((value(parent.min_inclusive) + value(parent.max_exclusive)) / 2);
      std::vector<std::string> parents = parent.parents;
      parents.insert(parents.begin(), parent.id);
      cosmos::PartitionKeyRange low{std::to_string(next_id_++), parent.min_inclusive, middle,
                                    parents};
      cosmos::PartitionKeyRange high{std::to_string(next_id_++), middle, parent.max_exclusive,
                                     parents};
      it = ranges_.erase(it);
      ranges_.insert(it, {low, high});
      return true;
    }
    return false;
  }

  /// The EPK (hash V2) of a document's partition key at `path`; "" when it has none.
  static std::string epk_of(const rapidjson::Value& document, const rapidjson::Pointer& path) {
    const cosmos::PartitionKeyDefinition definition{cosmos::PartitionKeyDefinition::Kind::kHash, 2};
    const rapidjson::Value* value = path.Get(document);
    if (value == nullptr) return {};
    auto component = cosmos::PartitionKeyComponent::of(*value);
    if (!component) return {};
    std::vector<cosmos::PartitionKeyComponent> components{*component};
    return cosmos::effective_partition_key(definition, components);
  }

  /// Whether `epk` lies in [min, max) ("" is the minimum, "FF" the maximum).
  static bool contains(const std::string& min, const std::string& max, const std::string& epk) {
    return !(epk < min) && (max == "FF" || epk < max);
  }

 private:
  /// The top 64 bits of the V2 space [0, 2^126): boundaries use them, the low 64 bits are 0.
  static constexpr std::uint64_t kSpace = std::uint64_t{1} << 62;

  static std::string bound(std::uint64_t top) { return fmt::format("{:016X}{:016X}", top, 0); }
  static std::uint64_t value(const std::string& epk) {
    if (epk.empty()) return 0;
    if (epk == "FF") return kSpace;
    return std::stoull(epk.substr(0, 16), nullptr, 16);
  }

  std::vector<cosmos::PartitionKeyRange> ranges_;
  int next_id_ = 1;
};

}  // namespace backfilld::testing
