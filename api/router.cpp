#include "api/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "api/errors.hpp"

namespace backfilld::api {
namespace {

// Segments of an absolute path: "/v1/jobs" -> {"v1", "jobs"}; "/" -> {""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

bool is_param_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::string_view PathParams::at(std::string_view name) const {
  if (auto value = find(name)) return *value;
  throw std::out_of_range("no path parameter named " + std::string(name));
}

std::optional<std::string_view> PathParams::find(std::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

void PathParams::add(std::string name, std::string value) {
  values_.emplace_back(std::move(name), std::move(value));
}

std::string allow_header(const std::vector<http::verb>& methods) {
  std::string allow;
  for (http::verb method : methods) {
    if (!allow.empty()) allow += ", ";
    allow += http::to_string(method);
  }
  return allow;
}

Response RouteMatch::error() const {
  switch (outcome) {
    case Outcome::method_not_allowed: {
      const std::string allow = allow_header(allowed);
      Response response = error_response("method_not_allowed", "this path accepts only: " + allow);
      response.set(http::field::allow, allow);
      return response;
    }
    case Outcome::invalid_path:
      return error_response("invalid_request", "the path has a malformed percent-encoding");
    case Outcome::found:
    case Outcome::not_found:
      break;
  }
  return error_response("not_found", "no route matches this path");
}

Router& Router::add(http::verb method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/' ||
      pattern.find_first_of("?#") != std::string_view::npos) {
    throw std::invalid_argument("route pattern must be an absolute path: " + std::string(pattern));
  }
  if (!handler) throw std::invalid_argument("route without handler: " + std::string(pattern));
  Route route{method, {}, std::make_shared<const Handler>(std::move(handler))};
  for (std::string_view text : split_path(pattern)) {
    const bool has_brace = text.find_first_of("{}") != std::string_view::npos;
    if (!has_brace) {
      route.segments.push_back({std::string(text), false});
      continue;
    }
    const std::string_view name = text.size() >= 2 ? text.substr(1, text.size() - 2) : "";
    if (text.front() != '{' || text.back() != '}' || !is_param_name(name)) {
      throw std::invalid_argument("malformed parameter segment in route " + std::string(pattern));
    }
    for (const Segment& previous : route.segments) {
      if (previous.is_param && previous.text == name) {
        throw std::invalid_argument("repeated parameter in route " + std::string(pattern));
      }
    }
    route.segments.push_back({std::string(name), true});
  }
  for (const Route& existing : routes_) {
    if (existing.method != method || existing.segments.size() != route.segments.size()) continue;
    const bool same_shape =
        std::equal(existing.segments.begin(), existing.segments.end(), route.segments.begin(),
                   [](const Segment& a, const Segment& b) {
                     return a.is_param == b.is_param && (a.is_param || a.text == b.text);
                   });
    if (same_shape) {
      throw std::invalid_argument("duplicate route " + std::string(http::to_string(method)) + " " +
                                  std::string(pattern));
    }
  }
  routes_.push_back(std::move(route));
  return *this;
}

RouteMatch Router::match(http::verb method, std::string_view path) const {
  RouteMatch result;
  if (path.empty() || path.front() != '/') return result;
  const std::vector<std::string_view> segments = split_path(path);

  // The literal at the first segment where two matching routes differ wins.
  auto more_specific = [](const Route& a, const Route& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
    }
    return false;
  };
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool matches = true;
    for (std::size_t i = 0; i < segments.size() && matches; ++i) {
      const Segment& segment = route.segments[i];
      matches = segment.is_param ? !segments[i].empty() : segment.text == segments[i];
    }
    if (!matches) continue;
    if (std::find(result.allowed.begin(), result.allowed.end(), route.method) ==
        result.allowed.end()) {
      result.allowed.push_back(route.method);
    }
    if (route.method == method && (best == nullptr || more_specific(route, *best))) best = &route;
  }
  if (best == nullptr && method == http::verb::head) {
    RouteMatch as_get = match(http::verb::get, path);
    if (as_get.outcome != RouteMatch::Outcome::method_not_allowed) return as_get;
  }
  if (best == nullptr) {
    result.outcome = result.allowed.empty() ? RouteMatch::Outcome::not_found
                                            : RouteMatch::Outcome::method_not_allowed;
    return result;
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!best->segments[i].is_param) continue;
    std::optional<std::string> value = percent_decode(segments[i]);
    if (!value) {
      result.outcome = RouteMatch::Outcome::invalid_path;
      return result;
    }
    result.params.add(best->segments[i].text, std::move(*value));
  }
  result.outcome = RouteMatch::Outcome::found;
  result.handler = best->handler;
  return result;
}

net::awaitable<Response> Router::dispatch(const Request& request) const {
  RouteMatch found = match(request.message.method(), request.path());
  if (!found.found()) co_return found.error();
  co_return co_await (*found.handler)(request, found.params);
}

}  // namespace backfilld::api
