#pragma once
/// The HTTP messages of the control plane: the request handlers receive, the response they return.
#include <rapidjson/document.h>

#include <cstdint>
#include <string_view>

#include "api/auth.hpp"
#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::api {

/// A complete request as handlers see it: Beast's message plus what the server learned about it.
struct Request {
  http::request<http::string_body> message;
  Caller caller = Caller::anonymous;
  tcp::endpoint remote;
  std::uint64_t id = 0;  ///< sequence number within the server, for correlating log lines

  /// The target's path, without the query string.
  std::string_view path() const;
  /// The query string after '?', empty when there is none.
  std::string_view query() const;
};

/// What a handler returns; the server sets the version, keep-alive, length and common headers.
using Response = http::response<http::string_body>;

/// The path of a request target (origin or absolute form): what precedes '?' or '#'.
std::string_view target_path(std::string_view target);

/// True for `application/json`, alone or with `charset=utf-8` (JSON is UTF-8, RFC 8259).
bool is_json_content_type(std::string_view content_type);

/// The body parsed as JSON: "invalid_json" when it does not parse, "invalid_request" when empty.
common::Result<rapidjson::Document> parse_json_body(const Request& request);

}  // namespace backfilld::api
