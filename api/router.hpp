#pragma once
/// Routing of the control plane: method + path pattern with `{name}` segments -> handler.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/message.hpp"
#include "daemon/common/asio.hpp"

namespace backfilld::api {

/// Values of a route's `{name}` segments, percent-decoded.
class PathParams {
 public:
  /// The value of `name`; throws std::out_of_range when the route has no such parameter (a bug).
  std::string_view at(std::string_view name) const;
  /// The value of `name`, or nullopt.
  std::optional<std::string_view> find(std::string_view name) const;
  /// Number of parameters.
  std::size_t size() const { return values_.size(); }
  /// Adds a parameter (the router fills these).
  void add(std::string name, std::string value);

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

/// Serves one request; a throw becomes a 500 that echoes nothing of the request.
using Handler = std::function<net::awaitable<Response>(const Request&, const PathParams&)>;

/// What looking up a method and path found: a handler with its parameters, or why there is none.
struct RouteMatch {
  enum class Outcome { found, not_found, method_not_allowed, invalid_path };
  Outcome outcome = Outcome::not_found;
  std::shared_ptr<const Handler> handler;  ///< set when found
  PathParams params;
  std::vector<http::verb> allowed;  ///< methods the path takes, for 405's Allow header

  /// True when a handler was found.
  bool found() const { return outcome == Outcome::found; }
  /// The JSON error for a match without handler: 404, 405 with `Allow`, or 400 (bad escape).
  Response error() const;
};

/// Maps method + path pattern to handlers. Patterns are absolute paths whose segments are
/// literals or `{name}` (a whole, non-empty segment). When several patterns match a path, the
/// one with a literal at the first segment where they differ wins (`/v1/jobs/stats` over
/// `/v1/jobs/{id}`). Literal segments compare with the raw path; parameters are decoded. HEAD
/// falls back to the GET route (the server sends no body).
class Router {
 public:
  /// Registers `handler` for `method` on `pattern`. A malformed or duplicate pattern is a bug:
  /// throws std::invalid_argument.
  Router& add(http::verb method, std::string_view pattern, Handler handler);

  /// Finds the handler for `method` on `path` (a target's path, without query).
  RouteMatch match(http::verb method, std::string_view path) const;

  /// Runs the matching handler, or answers the match's error (404, 405, 400).
  net::awaitable<Response> dispatch(const Request& request) const;

 private:
  struct Segment {
    std::string text;  ///< the literal, or the parameter's name
    bool is_param = false;
  };
  struct Route {
    http::verb method;
    std::vector<Segment> segments;
    std::shared_ptr<const Handler> handler;
  };
  std::vector<Route> routes_;
};

/// Comma-separated method names for an Allow header, e.g. "GET, PATCH".
std::string allow_header(const std::vector<http::verb>& methods);

}  // namespace backfilld::api
