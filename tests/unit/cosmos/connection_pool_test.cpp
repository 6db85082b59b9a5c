// The connection pool against a scripted HTTPS server: keep-alive, limits, stale connections,
// dropped and truncated responses, deadlines and TLS verification.
#include "daemon/cosmos/connection_pool.hpp"

#include <doctest/doctest.h>

#include "tests/support/scripted_https_server.hpp"
#include "tests/support/when_all.hpp"

namespace backfilld::cosmos {
namespace {

using namespace std::chrono_literals;
using testing::Action;
using testing::CloseStyle;
using testing::ScriptedHttpsServer;
using SendResult = common::Result<HttpResponse>;

std::shared_ptr<ssl::context> tls_context(TlsOptions options) {
  auto context = make_tls_context(options);
  REQUIRE_MESSAGE(context.ok(), context.error().message);
  return context.value();
}

std::shared_ptr<ssl::context> trusting_fixture_ca() {
  return tls_context(TlsOptions{.ca_file = testing::fixture_ca_file()});
}

std::unique_ptr<ConnectionPool> make_pool(net::io_context& io,
                                          const ScriptedHttpsServer& server,
                                          PoolOptions options = {},
                                          std::shared_ptr<ssl::context> tls = nullptr,
                                          std::string_view host = "127.0.0.1") {
  auto endpoint = parse_endpoint(server.endpoint(host));
  REQUIRE_MESSAGE(endpoint.ok(), endpoint.error().message);
  return std::make_unique<ConnectionPool>(io.get_executor(),
                                          tls ? std::move(tls) : trusting_fixture_ca(),
                                          std::move(endpoint.value()), options);
}

HttpRequest get(const ConnectionPool& pool, std::string target) {
  HttpRequest request(http::verb::get, target, 11);
  request.set(http::field::host, pool.endpoint().authority());
  return request;
}

/// Sends GET `target` and returns the outcome.
net::awaitable<SendResult> send_get(ConnectionPool& pool,
                                    std::string target,
                                    std::chrono::milliseconds timeout = 5s) {
  const HttpRequest request = get(pool, std::move(target));
  co_return co_await pool.send(request, timeout);
}

/// Sends GET `target`, then raises `most_open` to the pool's open connections.
net::awaitable<SendResult> send_and_count_open(ConnectionPool& pool,
                                               std::string target,
                                               std::size_t& most_open) {
  auto result = co_await send_get(pool, std::move(target));
  most_open = std::max(most_open, pool.open_connections());
  co_return result;
}

void check_ok(const SendResult& result) {
  REQUIRE_MESSAGE(result.ok(), result.error().code << ": " << result.error().message);
  CHECK(result->result_int() == 200);
}

Action ok() { return Action::respond(200, R"({"ok":true})"); }

}  // namespace

TEST_CASE("sequential requests share one keep-alive connection") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) { return ok(); });
  auto pool = make_pool(io, server);

  server.run([&]() -> net::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      check_ok(co_await send_get(*pool, "/r/" + std::to_string(i)));
      CHECK(pool->open_connections() == 1);
      CHECK(pool->idle_connections() == 1);
    }
  }());

  CHECK(server.connections_accepted() == 1);
  CHECK(pool->connects() == 1);
  REQUIRE(server.requests().size() == 5);
  for (const auto& request : server.requests()) CHECK(request.connection == 0);
  CHECK(server.requests()[4].target == "/r/4");
}

TEST_CASE("concurrent requests stay within max_connections and queue for a free one") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) { return ok(); });
  auto pool = make_pool(io, server, PoolOptions{.max_connections = 2});
  std::size_t most_open_seen = 0;

  const auto results = server.run([&]() -> net::awaitable<std::vector<SendResult>> {
    std::vector<net::awaitable<SendResult>> sends;
    for (int i = 0; i < 6; ++i) {
      sends.push_back(send_and_count_open(*pool, "/r/" + std::to_string(i), most_open_seen));
    }
    co_return co_await testing::when_all(std::move(sends));
  }());

  REQUIRE(results.size() == 6);
  for (const auto& result : results) check_ok(result);
  // Six requests started together over two connections: four of them waited for a free one.
  CHECK(server.connections_accepted() == 2);
  CHECK(server.peak_open_connections() == 2);
  CHECK(pool->connects() == 2);
  CHECK(most_open_seen <= 2);
  const auto per_connection = server.requests_per_connection();
  REQUIRE(per_connection.size() == 2);
  CHECK(per_connection[0] + per_connection[1] == 6);
  CHECK(per_connection[0] >= 1);
  CHECK(per_connection[1] >= 1);
}

TEST_CASE("a request that gets no free connection before its deadline times out") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](const auto&, std::size_t index, std::size_t) {
    return index == 0 ? Action::hang() : ok();
  });
  auto pool = make_pool(io, server, PoolOptions{.max_connections = 1});

  const auto results = server.run([&]() -> net::awaitable<std::vector<SendResult>> {
    std::vector<net::awaitable<SendResult>> sends;
    sends.push_back(send_get(*pool, "/hangs", 250ms));
    sends.push_back(send_get(*pool, "/waits", 100ms));
    co_return co_await testing::when_all(std::move(sends));
  }());

  REQUIRE_FALSE(results[1].ok());
  CHECK(results[1].error().code == "timeout");
  CHECK(results[1].error().message.find("no free connection") != std::string::npos);
  REQUIRE_FALSE(results[0].ok());
  CHECK(results[0].error().code == "timeout");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a response with Connection: close retires its connection") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](const auto&, std::size_t index, std::size_t) {
    return index == 0 ? ok().with_connection_close() : ok();
  });
  auto pool = make_pool(io, server);

  server.run([&]() -> net::awaitable<void> {
    const auto first = co_await send_get(*pool, "/first");
    check_ok(first);
    CHECK_FALSE(first->keep_alive());
    CHECK(pool->open_connections() == 0);
    CHECK(pool->idle_connections() == 0);
    check_ok(co_await send_get(*pool, "/second"));
    CHECK(pool->idle_connections() == 1);
  }());

  CHECK(server.connections_accepted() == 2);
  CHECK(pool->connects() == 2);
  REQUIRE(server.requests().size() == 2);
  CHECK(server.requests()[1].connection == 1);
}

TEST_CASE("an idle connection the server closed is detected and the request resent on a new one") {
  CloseStyle style{};
  SUBCASE("without close_notify") { style = CloseStyle::kAbrupt; }
  SUBCASE("after a TLS close_notify") { style = CloseStyle::kTlsShutdown; }
  net::io_context io;
  // The first response keeps the connection alive on paper, then the server closes it.
  ScriptedHttpsServer server(io, [style](const auto&, std::size_t index, std::size_t) {
    return index == 0 ? ok().then_close(style) : ok();
  });
  auto pool = make_pool(io, server);

  server.run([&]() -> net::awaitable<void> {
    check_ok(co_await send_get(*pool, "/first"));
    CHECK(pool->idle_connections() == 1);
    check_ok(co_await send_get(*pool, "/second"));
  }());

  CHECK(server.connections_accepted() == 2);
  CHECK(pool->connects() == 2);
  REQUIRE(server.requests().size() == 2);
  CHECK(server.requests()[1].target == "/second");
  CHECK(server.requests()[1].connection == 1);
  CHECK(pool->open_connections() == 1);
}

TEST_CASE("when every idle connection went stale, the resend goes over a fresh connection") {
  net::io_context io;
  // Both connections are closed by the server after their first answer (an idle timeout).
  ScriptedHttpsServer server(io, [](const auto& request, std::size_t, std::size_t) {
    return request.index_on_connection == 0 && request.connection < 2 ? ok().then_close() : ok();
  });
  auto pool = make_pool(io, server, PoolOptions{.max_connections = 2});

  server.run([&]() -> net::awaitable<void> {
    std::vector<net::awaitable<SendResult>> sends;
    sends.push_back(send_get(*pool, "/a"));
    sends.push_back(send_get(*pool, "/b"));
    for (const auto& result : co_await testing::when_all(std::move(sends))) check_ok(result);
    REQUIRE(pool->idle_connections() == 2);
    check_ok(co_await send_get(*pool, "/after-idle"));
  }());

  REQUIRE(server.requests().size() == 3);
  CHECK(server.requests()[2].target == "/after-idle");
  CHECK(server.requests()[2].connection == 2);
  CHECK(pool->open_connections() <= 2);
}

TEST_CASE("a connection dropped before the response is a transport error") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) { return Action::drop(); });
  auto pool = make_pool(io, server);

  const auto result = server.run(send_get(*pool, "/dropped"));

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "transport");
  // A new connection failing is not a stale one: no silent resend.
  CHECK(server.requests().size() == 1);
  CHECK(pool->open_connections() == 0);
}

TEST_CASE("a truncated body is a transport error, also on a reused connection") {
  bool reused = false;
  SUBCASE("on a new connection") { reused = false; }
  SUBCASE("on a reused connection") { reused = true; }
  net::io_context io;
  const std::size_t truncated_index = reused ? 1 : 0;
  ScriptedHttpsServer server(io, [&](const auto&, std::size_t index, std::size_t) {
    return index == truncated_index
               ? Action::truncated_body(200, R"({"Documents":[1,2,3,4,5,6,7,8,9]})", 10)
               : ok();
  });
  auto pool = make_pool(io, server);

  const auto result = server.run([&]() -> net::awaitable<SendResult> {
    if (reused) check_ok(co_await send_get(*pool, "/whole"));
    co_return co_await send_get(*pool, "/truncated");
  }());

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "transport");
  // The server did answer: the request must not be resent behind the caller's back.
  CHECK(server.requests().size() == truncated_index + 1);
  CHECK(pool->open_connections() == 0);
}

TEST_CASE("a server that never answers gives a timeout after the deadline, not a hang") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) { return Action::hang(); });
  auto pool = make_pool(io, server);

  const auto started = std::chrono::steady_clock::now();
  const auto result = server.run(send_get(*pool, "/silent", 200ms));
  const auto elapsed = std::chrono::steady_clock::now() - started;

  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == "timeout");
  CHECK(elapsed >= 195ms);
  CHECK(elapsed < 5s);
  CHECK(server.requests().size() == 1);
  CHECK(pool->open_connections() == 0);
}

TEST_CASE("TLS: the server certificate is verified, including its host name") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) { return ok(); });

  // Verification is on by default: system CAs only do not trust the fixture certificate.
  auto untrusting = make_pool(io, server, {}, tls_context(TlsOptions{}));
  auto insecure = make_pool(io, server, {},
                            tls_context(TlsOptions{.ca_file = {}, .insecure_skip_verify = true}));
  auto by_name = make_pool(io, server, {}, trusting_fixture_ca(), "localhost");
  auto by_address = make_pool(io, server, {}, trusting_fixture_ca(), "127.0.0.1");
  // "127.1" resolves to 127.0.0.1 but is a name, and the certificate does not list it.
  auto wrong_name = make_pool(io, server, {}, trusting_fixture_ca(), "127.1");

  server.run([&]() -> net::awaitable<void> {
    const auto untrusted = co_await send_get(*untrusting, "/");
    REQUIRE_FALSE(untrusted.ok());
    CHECK(untrusted.error().code == "tls");
    CHECK(untrusted.error().message.find("certificate verify failed") != std::string::npos);

    check_ok(co_await send_get(*insecure, "/"));
    check_ok(co_await send_get(*by_name, "/"));
    check_ok(co_await send_get(*by_address, "/"));

    const auto mismatch = co_await send_get(*wrong_name, "/");
    REQUIRE_FALSE(mismatch.ok());
    CHECK(mismatch.error().code == "tls");
    CHECK(mismatch.error().message.find("certificate verify failed") != std::string::npos);
  }());

  CHECK(server.connections_accepted() == 5);
  CHECK(server.requests().size() == 3);
}

}  // namespace backfilld::cosmos
