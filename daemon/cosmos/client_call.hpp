#pragma once
/// Client internals shared by its translation units: one REST call and its reply.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/cosmos/client.hpp"

namespace backfilld::cosmos {

/// One REST call before signing.
struct Client::Call {
  std::string_view operation;
  http::verb verb;
  std::string_view resource_type;  ///< "docs", "colls", "dbs", "pkranges"
  std::string resource_link;       ///< signed, raw names
  std::string path_link;           ///< the URL path, without the leading '/'
  std::vector<std::pair<std::string_view, std::string>> headers = {};
  std::string body = {};

  /// Pinned to one partition key range (a query or a bulk batch the caller routed): a 410
  /// saying the range is gone must reach the caller, who re-reads the ranges.
  bool pinned_to_range() const {
    for (const auto& [name, value] : headers) {
      if (name == "x-ms-documentdb-partitionkeyrangeid") return true;
    }
    return false;
  }
};

/// The parts of a successful response the callers need.
struct Client::Reply {
  int status = 0;
  std::string etag;
  std::string continuation;
  double request_charge = 0;
  std::string body;
};

}  // namespace backfilld::cosmos
