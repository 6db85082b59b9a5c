#pragma once
/// Cosmos DB master-key authorization (REST "Access control on Cosmos DB resources").
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/common/result.hpp"

namespace backfilld::cosmos {

/// The decoded account key. Never printed.
class MasterKey {
 public:
  /// Decodes the base64 account key; the error names COSMOS_KEY, never its value.
  static common::Result<MasterKey> from_base64(std::string_view key_base64);

  /// base64(HMAC-SHA256(key, lower(verb)\nlower(type)\nlink\nlower(date)\n\n)).
  std::string signature(std::string_view verb,
                        std::string_view resource_type,
                        std::string_view resource_link,
                        std::string_view date) const;

  /// The URL-encoded `Authorization` header value: type=master&ver=1.0&sig=...
  std::string authorization(std::string_view verb,
                            std::string_view resource_type,
                            std::string_view resource_link,
                            std::string_view date) const;

 private:
  explicit MasterKey(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {}
  std::vector<unsigned char> bytes_;
};

/// RFC 1123 date as x-ms-date wants it: "Thu, 27 Apr 2017 00:51:12 GMT".
std::string rfc1123_date(std::chrono::system_clock::time_point when);

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

}  // namespace backfilld::cosmos
