#pragma once
/// A small synchronous HTTP/1.1 client of the daemon's control plane, for `backfilld ctl`.
#include <chrono>
#include <string>
#include <string_view>

#include "daemon/common/result.hpp"

namespace backfilld::ctl {

/// Where the daemon listens, from BACKFILLD_URL ("http://host:port", an optional path prefix).
struct Endpoint {
  std::string host;
  std::string port;
  std::string base_path;  ///< "" or a prefix without the trailing slash, e.g. "/backfilld"
  std::string url;        ///< as given, for messages
};

/// Parses an http:// URL; the error (code "invalid_url") says what is wrong with it. https is
/// refused with a message: the daemon serves plain HTTP (TLS ends at a proxy or the mesh).
common::Result<Endpoint> parse_endpoint(std::string_view url);

/// One answer: the status and the body as sent.
struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

/// One request to the daemon with its deadline.
struct HttpRequest {
  std::string method;  ///< GET, POST or PATCH
  std::string target;  ///< path and query, e.g. "/v1/jobs"
  std::string body;    ///< JSON; empty: no body
  std::string token;   ///< bearer token; empty: none sent
  std::chrono::milliseconds timeout{10000};
};

/// Sends `request` on a fresh connection and reads the answer. A failure to resolve, connect,
/// write or read (or the deadline) is an error with code "unreachable" and the reason.
common::Result<HttpResponse> send(const Endpoint& endpoint, const HttpRequest& request);

}  // namespace backfilld::ctl
