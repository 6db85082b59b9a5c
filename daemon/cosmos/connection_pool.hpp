#pragma once
/// HTTPS connections to one Cosmos endpoint: kept alive, reused, bounded in number.
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::cosmos {

/// Where the account lives: parsed from "https://host[:port][/]".
struct Endpoint {
  std::string host;
  std::string port;
  /// The Host header value.
  std::string authority() const { return host + ":" + port; }
};

/// Parses an https endpoint URL; the error says what is wrong with it.
common::Result<Endpoint> parse_endpoint(std::string_view url);

struct TlsOptions {
  std::string ca_file;                ///< extra CA (PEM) to trust, e.g. the local server's cert
  bool insecure_skip_verify = false;  ///< never in production: logged loudly by the caller
};

/// A client TLS context: system CAs plus `ca_file`, peer verification on unless told otherwise.
common::Result<std::shared_ptr<ssl::context>> make_tls_context(const TlsOptions& options);

struct PoolOptions {
  std::size_t max_connections = 32;
  std::chrono::milliseconds connect_timeout{10'000};
  std::uint64_t max_response_bytes = 256ULL << 20;
};

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

/// Sends requests over a bounded set of keep-alive connections. Single-threaded: use it from
/// one io_context thread (or strand).
class ConnectionPool {
 public:
  ConnectionPool(net::any_io_executor executor,
                 std::shared_ptr<ssl::context> tls,
                 Endpoint endpoint,
                 PoolOptions options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// Writes `request` and reads its response, all within `timeout`. A keep-alive connection
  /// that the server closed while idle is detected and the request resent once on a fresh one;
  /// a response with `Connection: close` retires its connection. Errors are transport errors.
  net::awaitable<common::Result<HttpResponse>> send(const HttpRequest& request,
                                                    std::chrono::milliseconds timeout);

  const Endpoint& endpoint() const { return endpoint_; }
  std::size_t open_connections() const { return open_; }
  std::size_t idle_connections() const { return idle_.size(); }
  /// Connections opened since start: with keep-alive this stays near max_connections.
  std::uint64_t connects() const { return connects_; }

  /// Closes idle connections (shutdown, or after an endpoint change).
  void close_idle();

 private:
  struct Connection;
  using Clock = std::chrono::steady_clock;

  /// An idle connection, else a new one once there is room; `fresh`: a new one in any case.
  net::awaitable<common::Result<std::unique_ptr<Connection>>> acquire(Clock::time_point deadline,
                                                                      bool fresh);
  net::awaitable<common::Result<std::unique_ptr<Connection>>> connect(Clock::time_point deadline);
  void release(std::unique_ptr<Connection> connection);
  void retire(std::unique_ptr<Connection> connection);
  static void close_socket(Connection& connection);
  void wake_one_waiter();

  net::any_io_executor executor_;
  std::shared_ptr<ssl::context> tls_;
  Endpoint endpoint_;
  PoolOptions options_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<net::steady_timer*> waiters_;
  std::size_t open_ = 0;
  std::uint64_t connects_ = 0;
};

}  // namespace backfilld::cosmos
