#include "tests/bench/null_ranges.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "daemon/cosmos/effective_partition_key.hpp"

namespace backfilld::bench {
namespace {

using Uint128 = unsigned __int128;

std::string hex32(Uint128 value) {
  char text[33];
  std::snprintf(text, sizeof(text), "%016llX%016llX", static_cast<unsigned long long>(value >> 64),
                static_cast<unsigned long long>(value & ~std::uint64_t{0}));
  return text;
}

const cosmos::PartitionKeyDefinition kHashV2{cosmos::PartitionKeyDefinition::Kind::kHash, 2};

}  // namespace

std::string workspace_id(std::uint64_t workspace) {
  char text[32];
  std::snprintf(text, sizeof(text), "ws-%05llu", static_cast<unsigned long long>(workspace));
  return text;
}

std::vector<cosmos::PartitionKeyRange> initial_ranges(int k) {
  // floor(i * 2^126 / k) without overflowing 128 bits: i * q + floor(i * r / k) for
  // 2^126 = q * k + r.
  const Uint128 space = Uint128{1} << 126;
  const auto divisor = static_cast<Uint128>(k);
  const Uint128 quotient = space / divisor;
  const Uint128 remainder = space % divisor;
  const auto boundary = [&](int i) {
    const auto at = static_cast<Uint128>(i);
    return hex32(at * quotient + (at * remainder) / divisor);
  };
  std::vector<cosmos::PartitionKeyRange> ranges;
  for (int i = 0; i < k; ++i) {
    ranges.push_back(
        {std::to_string(i), i == 0 ? "" : boundary(i), i == k - 1 ? "FF" : boundary(i + 1), {}});
  }
  return ranges;
}

NullRanges::NullRanges(std::uint64_t documents, int k)
    : documents_(documents),
      ranges_(initial_ranges(k)),
      range_of_workspace_((documents + kNotesPerWorkspace - 1) / kNotesPerWorkspace, -1) {}

std::optional<std::size_t> NullRanges::find(std::string_view id) const {
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    if (ranges_[i].id == id) return i;
  }
  return std::nullopt;
}

std::size_t NullRanges::range_of_workspace(std::uint64_t workspace) {
  std::int32_t& cached = range_of_workspace_[workspace];
  if (cached < 0) {
    const cosmos::PartitionKeyComponent value =
        cosmos::PartitionKeyComponent::from_string(workspace_id(workspace));
    const std::string epk = cosmos::effective_partition_key(kHashV2, {&value, 1});
    const cosmos::PartitionKeyRange* range = cosmos::find_range(ranges_, epk);
    // The ranges cover "" .. "FF" without gaps and every V2 hash is below "40".
    if (range == nullptr) throw std::logic_error("no range holds EPK " + epk);
    cached = static_cast<std::int32_t>(range - ranges_.data());
  }
  return static_cast<std::size_t>(cached);
}

std::size_t NullRanges::range_of_note(std::uint64_t index) {
  return range_of_workspace(index / kNotesPerWorkspace);
}

std::uint64_t NullRanges::next_in(std::size_t range, std::uint64_t from) {
  // A workspace's notes are consecutive and share one range: step workspace by workspace.
  for (std::uint64_t at = from; at < documents_;
       at = (at / kNotesPerWorkspace + 1) * kNotesPerWorkspace) {
    if (range_of_note(at) == range) return at;
  }
  return documents_;
}

std::uint64_t NullRanges::count_in(std::size_t range) {
  if (counts_.empty()) {
    counts_.assign(ranges_.size(), 0);
    for (std::uint64_t workspace = 0; workspace < range_of_workspace_.size(); ++workspace) {
      const std::uint64_t first = workspace * kNotesPerWorkspace;
      counts_[range_of_workspace(workspace)] +=
          std::min(documents_, first + kNotesPerWorkspace) - first;
    }
  }
  return counts_[range];
}

std::string NullRanges::pkranges_body() const {
  std::string body = R"({"_rid":"r","PartitionKeyRanges":[)";
  for (const auto& range : ranges_) {
    if (&range != &ranges_.front()) body += ',';
    body += R"({"id":")" + range.id + R"(","_rid":"r)" + range.id + R"(","minInclusive":")" +
            range.min_inclusive + R"(","maxExclusive":")" + range.max_exclusive +
            R"(","ridPrefix":)" + range.id + R"(,"status":"online","parents":[]})";
  }
  body += R"(],"_count":)" + std::to_string(ranges_.size()) + "}";
  return body;
}

std::string NullRanges::container_body(std::string_view id) {
  return R"({"id":")" + std::string(id) +
         R"(","_rid":"r","_self":"dbs/r/colls/r/","_etag":"\"c\"","_ts":1767225600,)"
         R"("partitionKey":{"paths":["/workspaceId"],"kind":"Hash","version":2}})";
}

}  // namespace backfilld::bench
