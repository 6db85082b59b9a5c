#include "daemon/cosmos/connection_pool.hpp"

#include <openssl/ssl.h>

#include <algorithm>

namespace backfilld::cosmos {

struct ConnectionPool::Connection {
  Connection(net::any_io_executor executor, ssl::context& tls) : stream(executor, tls) {}
  ssl::stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  bool reused = false;
};

namespace {

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

/// A reused connection failing like this was closed by the server while idle.
bool is_stale_connection(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::eof ||
         ec == net::ssl::error::stream_truncated;
}

std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()));
}

}  // namespace

common::Result<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) {
    return common::fail("invalid_endpoint", "COSMOS_ENDPOINT must start with https://");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.find_first_not_of('/', slash) != std::string_view::npos) {
      return common::fail("invalid_endpoint", "COSMOS_ENDPOINT must not have a path");
    }
    rest = rest.substr(0, slash);
  }
  Endpoint endpoint;
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    endpoint.host = std::string(rest.substr(0, colon));
    endpoint.port = std::string(rest.substr(colon + 1));
    if (endpoint.port.empty() ||
        !std::all_of(endpoint.port.begin(), endpoint.port.end(),
                     [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(endpoint.port) == 0 || std::stoul(endpoint.port) > 65535) {
      return common::fail("invalid_endpoint", "COSMOS_ENDPOINT has an invalid port");
    }
  } else {
    endpoint.host = std::string(rest);
    endpoint.port = "443";
  }
  if (endpoint.host.empty()) {
    return common::fail("invalid_endpoint", "COSMOS_ENDPOINT has no host");
  }
  return endpoint;
}

common::Result<std::shared_ptr<ssl::context>> make_tls_context(const TlsOptions& options) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  context->set_default_verify_paths(ec);
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (ec) {
      return common::fail("invalid_ca_file",
                          "cannot load CA file " + options.ca_file + ": " + ec.message());
    }
  }
  context->set_verify_mode(options.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  return context;
}

ConnectionPool::ConnectionPool(net::any_io_executor executor,
                               std::shared_ptr<ssl::context> tls,
                               Endpoint endpoint,
                               PoolOptions options)
    : executor_(std::move(executor)),
      tls_(std::move(tls)),
      endpoint_(std::move(endpoint)),
      options_(options) {}

ConnectionPool::~ConnectionPool() = default;

void ConnectionPool::close_idle() {
  open_ -= idle_.size();
  idle_.clear();
}

net::awaitable<common::Result<HttpResponse>> ConnectionPool::send(
    const HttpRequest& request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (int attempt = 0;; ++attempt) {
    // The resend goes over a new connection: the other idle ones are likely stale as well.
    auto acquired = co_await acquire(deadline, /*fresh=*/attempt > 0);
    if (!acquired) co_return common::Unexpected{std::move(acquired.error())};
    std::unique_ptr<Connection> connection = std::move(acquired.value());
    const bool was_reused = connection->reused;

    // Real time, not the Clock: socket deadlines bound real network I/O.
    beast::get_lowest_layer(connection->stream).expires_after(remaining(deadline));
    boost::system::error_code error;
    bool response_started = false;
    co_await http::async_write(connection->stream, request,
                               net::redirect_error(net::use_awaitable, error));
    if (!error) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(options_.max_response_bytes);
      co_await http::async_read(connection->stream, connection->buffer, parser,
                                net::redirect_error(net::use_awaitable, error));
      response_started = parser.got_some();
      if (!error) {
        HttpResponse response = parser.release();
        if (response.keep_alive()) {
          release(std::move(connection));
        } else {
          retire(std::move(connection));
        }
        co_return response;
      }
    }
    retire(std::move(connection));
    // Once the server began to answer, it had the request: resending could apply it twice.
    if (was_reused && attempt == 0 && !response_started && is_stale_connection(error) &&
        Clock::now() < deadline) {
      continue;
    }
    const bool timed_out = error == beast::error::timeout;
    co_return common::fail(
        timed_out ? "timeout" : "transport",
        timed_out ? "no response within the request deadline"
                  : "connection to " + endpoint_.authority() + " failed: " + error.message());
  }
}

net::awaitable<common::Result<std::unique_ptr<ConnectionPool::Connection>>> ConnectionPool::acquire(
    Clock::time_point deadline, bool fresh) {
  for (;;) {
    if (!fresh && !idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      connection->reused = true;
      co_return connection;
    }
    if (open_ < options_.max_connections) {
      ++open_;
      break;
    }
    if (!idle_.empty()) {
      // No free slot for a new connection: it takes the slot of the longest idle one.
      close_socket(*idle_.front());
      idle_.erase(idle_.begin());
      break;
    }
    net::steady_timer timer(executor_, deadline);
    waiters_.push_back(&timer);
    boost::system::error_code cancelled;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, cancelled));
    std::erase(waiters_, &timer);
    if (Clock::now() >= deadline) {
      co_return common::fail("timeout", "no free connection within the request deadline");
    }
  }
  auto connected = co_await connect(deadline);
  if (!connected) {
    --open_;
    wake_one_waiter();
  }
  co_return connected;
}

net::awaitable<common::Result<std::unique_ptr<ConnectionPool::Connection>>> ConnectionPool::connect(
    Clock::time_point deadline) {
  auto connection = std::make_unique<Connection>(executor_, *tls_);
  auto& tcp_layer = beast::get_lowest_layer(connection->stream);
  const auto budget = std::min(remaining(deadline), options_.connect_timeout);

  boost::system::error_code error;
  tcp::resolver resolver(executor_);
  const auto results = co_await resolver.async_resolve(
      endpoint_.host, endpoint_.port, net::redirect_error(net::use_awaitable, error));
  if (error) {
    co_return common::fail("transport",
                           "cannot resolve " + endpoint_.host + ": " + error.message());
  }
  tcp_layer.expires_after(budget);  // real time: it bounds a real connect
  co_await tcp_layer.async_connect(results, net::redirect_error(net::use_awaitable, error));
  if (error) {
    co_return common::fail("transport",
                           "cannot connect to " + endpoint_.authority() + ": " + error.message());
  }
  tcp_layer.socket().set_option(tcp::no_delay(true));

  SSL* handle = connection->stream.native_handle();
  if (!is_ip_address(endpoint_.host)) SSL_set_tlsext_host_name(handle, endpoint_.host.c_str());
  connection->stream.set_verify_callback(ssl::host_name_verification(endpoint_.host));
  co_await connection->stream.async_handshake(ssl::stream_base::client,
                                              net::redirect_error(net::use_awaitable, error));
  if (error) {
    co_return common::fail(
        "tls", "TLS handshake with " + endpoint_.authority() + " failed: " + error.message());
  }
  ++connects_;
  co_return connection;
}

void ConnectionPool::release(std::unique_ptr<Connection> connection) {
  connection->buffer.clear();
  idle_.push_back(std::move(connection));
  wake_one_waiter();
}

void ConnectionPool::retire(std::unique_ptr<Connection> connection) {
  close_socket(*connection);
  --open_;
  wake_one_waiter();
}

void ConnectionPool::close_socket(Connection& connection) {
  boost::system::error_code ignored;
  beast::get_lowest_layer(connection.stream).socket().close(ignored);
}

void ConnectionPool::wake_one_waiter() {
  if (waiters_.empty()) return;
  waiters_.front()->cancel();
  waiters_.pop_front();
}

}  // namespace backfilld::cosmos
