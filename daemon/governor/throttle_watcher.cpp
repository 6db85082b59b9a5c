#include "daemon/governor/throttle_watcher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <filesystem>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/auth.hpp"

namespace backfilld::governor {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

struct Target {
  std::string host;
  std::string port;
  std::string path;  ///< the prefix, without a trailing slash
};

common::Result<Target> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return common::fail("usage", "--throttle-prometheus-url: must start with http://");
  }
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Target target;
  target.path = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  while (!target.path.empty() && target.path.back() == '/') target.path.pop_back();
  const auto colon = authority.rfind(':');
  target.host = std::string(authority.substr(0, colon));
  target.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  if (target.host.empty() || target.port.empty()) {
    return common::fail("usage", "--throttle-prometheus-url: needs a host");
  }
  return target;
}

/// GET {url}/api/v1/query?query=... with a deadline: the answer's body, or why not.
net::awaitable<common::Result<std::string>> ask(const Target& target,
                                                const ThrottleWatchSettings& settings) {
  const auto executor = co_await net::this_coro::executor;
  net::ip::tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  beast::error_code failed;
  const auto endpoints = co_await resolver.async_resolve(
      target.host, target.port, net::redirect_error(net::use_awaitable, failed));
  if (failed) co_return common::fail("unreachable", "resolve: " + failed.message());
  stream.expires_after(settings.query_timeout);
  co_await stream.async_connect(endpoints, net::redirect_error(net::use_awaitable, failed));
  if (failed) co_return common::fail("unreachable", "connect: " + failed.message());
  http::request<http::empty_body> request(
      http::verb::get, target.path + "/api/v1/query?query=" + cosmos::url_encode(settings.query),
      11);
  request.set(http::field::host, target.host);
  request.set(http::field::user_agent, "backfilld-throttle");
  co_await http::async_write(stream, request, net::redirect_error(net::use_awaitable, failed));
  if (failed) co_return common::fail("unreachable", "send: " + failed.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  co_await http::async_read(stream, buffer, parser,
                            net::redirect_error(net::use_awaitable, failed));
  if (failed) co_return common::fail("unreachable", "read: " + failed.message());
  auto response = parser.release();
  if (response.result_int() != 200) {
    co_return common::fail("query_failed",
                           fmt::format("HTTP {}: {:.200}", response.result_int(), response.body()));
  }
  co_return std::move(response.body());
}

void apply_query(Governor& governor,
                 const ThrottleWatchSettings& settings,
                 const common::Result<std::optional<double>>& value) {
  const auto now = governor.clock().system_now();
  if (!value) {
    governor.raise({ThrottleSource::kQuery,
                    ThrottleLevel::kSlow,
                    "the throttle query failed (the application's health is unknown): " +
                        value.error().message,
                    now,
                    {}});
    return;
  }
  const std::optional<ThrottleLevel> level =
      *value ? level_for(**value, settings) : std::optional<ThrottleLevel>();
  if (!level) {
    governor.lift(ThrottleSource::kQuery);
    return;
  }
  const double bound = *level == ThrottleLevel::kPause ? *settings.critical : *settings.threshold;
  governor.raise(
      {ThrottleSource::kQuery,
       *level,
       fmt::format("{} = {:.4g}, at or above the {} {:g}", settings.query, **value,
                   *level == ThrottleLevel::kPause ? "critical threshold" : "threshold", bound),
       now,
       {}});
}

}  // namespace

common::Result<void> validate(const ThrottleWatchSettings& settings) {
  if (settings.prometheus_url.empty() != settings.query.empty()) {
    return common::fail("usage", "--throttle-query and --throttle-prometheus-url go together");
  }
  if (!settings.query.empty()) {
    if (auto target = parse_url(settings.prometheus_url); !target) {
      return common::Unexpected{target.error()};
    }
    if (!settings.threshold && !settings.critical) {
      return common::fail("usage",
                          "--throttle-query needs --throttle-threshold or "
                          "--throttle-critical-threshold");
    }
    for (const auto& bound : {settings.threshold, settings.critical}) {
      if (bound && !std::isfinite(*bound)) {
        return common::fail("usage", "throttle thresholds must be finite numbers");
      }
    }
    if (settings.threshold && settings.critical && *settings.critical < *settings.threshold) {
      return common::fail("usage",
                          "--throttle-critical-threshold must not be below --throttle-threshold");
    }
    if (settings.interval < std::chrono::seconds(1)) {
      return common::fail("usage", "--throttle-query-interval must be at least 1 second");
    }
  }
  return {};
}

std::optional<ThrottleLevel> level_for(double value, const ThrottleWatchSettings& settings) {
  if (std::isnan(value)) return std::nullopt;
  if (settings.critical && value >= *settings.critical) return ThrottleLevel::kPause;
  if (settings.threshold && value >= *settings.threshold) return ThrottleLevel::kSlow;
  return std::nullopt;
}

common::Result<std::optional<double>> parse_query_answer(std::string_view body) {
  auto json = common::parse_json(body);
  if (!json) return common::fail("query_failed", "the answer is not JSON");
  if (common::string_member(*json, "status").value_or("") != "success") {
    return common::fail(
        "query_failed",
        std::string("Prometheus: ") +
            std::string(common::string_member(*json, "error").value_or("status is not success")));
  }
  const rapidjson::Value* data = common::find_member(*json, "data");
  const auto type = data ? common::string_member(*data, "resultType") : std::nullopt;
  const rapidjson::Value* result = data ? common::find_member(*data, "result") : nullptr;
  if (!type || result == nullptr) {
    return common::fail("query_failed", "the answer has no data.result");
  }
  const rapidjson::Value* sample = nullptr;
  if (*type == "scalar") {
    sample = result;
  } else if (*type == "vector" && result->IsArray()) {
    if (result->Empty()) return std::optional<double>();
    if (result->Size() > 1) {
      return common::fail("query_failed",
                          fmt::format("the query gives {} series; it must give one number "
                                      "(aggregate it, e.g. with sum or max)",
                                      result->Size()));
    }
    sample = common::find_member((*result)[0], "value");
  } else {
    return common::fail("query_failed", "the query must give a scalar or an instant vector");
  }
  if (sample == nullptr || !sample->IsArray() || sample->Size() != 2 || !(*sample)[1].IsString()) {
    return common::fail("query_failed", "the sample is not [time, \"value\"]");
  }
  const std::string text = (*sample)[1].GetString();
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return common::fail("query_failed", "the value is not a number");
  return std::optional<double>(value);
}

net::awaitable<void> watch_throttles(Governor& governor,
                                     ThrottleWatchSettings settings,
                                     std::function<bool()> stopped) {
  const auto executor = co_await net::this_coro::executor;
  std::optional<Target> target;
  if (!settings.query.empty()) {
    auto parsed = parse_url(settings.prometheus_url);
    if (parsed) {
      target = std::move(*parsed);
    } else {
      spdlog::error("throttle query not run: {}", parsed.error().message);
    }
  }
  auto next_query = governor.clock().monotonic_now();
  while (!stopped()) {
    governor.expire();
    if (!settings.flag_file.empty()) {
      std::error_code ignored;
      if (std::filesystem::exists(settings.flag_file, ignored)) {
        governor.raise({ThrottleSource::kFlagFile,
                        ThrottleLevel::kPause,
                        settings.flag_file + " exists",
                        governor.clock().system_now(),
                        {}});
      } else {
        governor.lift(ThrottleSource::kFlagFile);
      }
    }
    if (target && governor.clock().monotonic_now() >= next_query) {
      next_query = governor.clock().monotonic_now() + settings.interval;
      auto body = co_await ask(*target, settings);
      apply_query(governor, settings,
                  body ? parse_query_answer(*body)
                       : common::Result<std::optional<double>>(common::Unexpected{body.error()}));
    }
    co_await governor.clock().sleep_for(executor, std::chrono::seconds(1));
  }
}

}  // namespace backfilld::governor
