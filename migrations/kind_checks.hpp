#pragma once
/// What a kind's checks before and after the scan (Kind::before_scan, Kind::after_scan) share:
/// what they look at, what they report, and the count queries they make.
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

/// Named figures ("plaintext.body" -> 0, "targetCount" -> 120) and, when a check failed, why.
struct CheckReport {
  std::vector<std::pair<std::string, std::uint64_t>> figures;
  std::string failure;  ///< empty: passed

  bool operator==(const CheckReport&) const = default;
};

/// What a check looks at.
struct CheckTarget {
  const Manifest& manifest;
  const ContainerSpec& spec;
  std::string database;
  Mode mode;
};

/// c["name"]: any top-level field name, quoted as JSON.
std::string field_ref(std::string_view name);

/// The WHERE clause and parameters of one check query: the manifest's productId filter (plan:
/// filter by productId wherever the query shape allows), then `conditions`.
struct QueryFilter {
  std::string where;
  rapidjson::Document parameters{rapidjson::kArrayType};

  QueryFilter(const Manifest& manifest, std::string conditions);
  /// Adds the query parameter `name` ("@skipOwners").
  void add(std::string_view name, rapidjson::Value value);
  std::string parameters_json() const;
};

/// Counts the documents of `container` matching `where` ("" for all), range by range (the
/// gateway serves no cross-partition aggregates). `parameters_json` is a JSON array.
net::awaitable<cosmos::Result<std::uint64_t>> count_documents(cosmos::DocumentStore& store,
                                                              const cosmos::ContainerRef& container,
                                                              const std::string& where,
                                                              const std::string& parameters_json);

/// The documents of `container` matching `filter`.
net::awaitable<cosmos::Result<std::uint64_t>> count_documents(cosmos::DocumentStore& store,
                                                              const cosmos::ContainerRef& container,
                                                              const QueryFilter& filter);

}  // namespace backfilld::migrations
