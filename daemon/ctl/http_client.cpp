#include "daemon/ctl/http_client.hpp"

#include <charconv>
#include <exception>
#include <future>

#include "daemon/common/asio.hpp"

namespace backfilld::ctl {
namespace {

/// The request on one connection; every operation has the request's deadline.
net::awaitable<HttpResponse> exchange(Endpoint endpoint, HttpRequest request) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
  stream.expires_after(request.timeout);
  const auto addresses =
      co_await resolver.async_resolve(endpoint.host, endpoint.port, net::use_awaitable);
  co_await stream.async_connect(addresses, net::use_awaitable);

  http::request<http::string_body> message(http::string_to_verb(request.method),
                                           endpoint.base_path + request.target, 11);
  message.set(http::field::host, endpoint.host + ":" + endpoint.port);
  message.set(http::field::user_agent, "backfilld-ctl/" BACKFILLD_VERSION);
  message.set(http::field::accept, "application/json");
  if (!request.token.empty()) message.set(http::field::authorization, "Bearer " + request.token);
  if (!request.body.empty()) {
    message.set(http::field::content_type, "application/json");
    message.body() = request.body;
  }
  message.prepare_payload();
  stream.expires_after(request.timeout);
  co_await http::async_write(stream, message, net::use_awaitable);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  stream.expires_after(request.timeout);
  co_await http::async_read(stream, buffer, parser, net::use_awaitable);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return HttpResponse{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace

common::Result<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.starts_with("https://")) {
    return common::fail("invalid_url",
                        "BACKFILLD_URL " + std::string(url) +
                            ": https is not supported; the daemon serves plain HTTP (reach it "
                            "through a port-forward or a proxy's http address)");
  }
  if (!url.starts_with(kHttp)) {
    return common::fail("invalid_url",
                        "BACKFILLD_URL " + std::string(url) +
                            ": must start with http:// (e.g. http://127.0.0.1:8080)");
  }
  Endpoint endpoint;
  endpoint.url = std::string(url);
  std::string_view rest = url.substr(kHttp.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    endpoint.base_path = std::string(path);
  }
  std::string_view port = "80";
  if (authority.starts_with('[')) {  // [::1]:8080
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return common::fail("invalid_url", "BACKFILLD_URL " + std::string(url) + ": unclosed [");
    endpoint.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        return common::fail("invalid_url", "BACKFILLD_URL " + std::string(url) + ": bad port");
      port = authority.substr(close + 2);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    endpoint.host = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
  } else {
    endpoint.host = std::string(authority);
  }
  unsigned number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (endpoint.host.empty() || port.empty() || error != std::errc{} ||
      end != port.data() + port.size() || number == 0 || number > 65535) {
    return common::fail("invalid_url", "BACKFILLD_URL " + std::string(url) +
                                           ": needs a host and a port from 1 to 65535");
  }
  endpoint.port = std::string(port);
  return endpoint;
}

common::Result<HttpResponse> send(const Endpoint& endpoint, const HttpRequest& request) {
  net::io_context io;
  std::future<HttpResponse> answer =
      net::co_spawn(io, exchange(endpoint, request), net::use_future);
  io.run();
  try {
    return answer.get();
  } catch (const boost::system::system_error& error) {
    const std::string reason =
        error.code() == beast::error::timeout
            ? "no answer within " + std::to_string(request.timeout.count()) + " ms"
            : error.code().message();
    return common::fail("unreachable", reason);
  }
}

}  // namespace backfilld::ctl
