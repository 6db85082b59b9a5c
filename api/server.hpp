#pragma once
/// The control plane's HTTP/1.1 server: accept loop, keep-alive connections, limits, deadlines,
/// auth, audit, graceful stop.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/auth.hpp"
#include "api/router.hpp"
#include "daemon/common/asio.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::api {

/// Sizes and deadlines of the server; the defaults suit an operator's curl.
struct ServerLimits {
  std::size_t header_limit = 8 * 1024;     ///< request line + headers; over -> 431, close
  std::uint64_t body_limit = 1024 * 1024;  ///< over -> 413, close
  std::chrono::milliseconds request_timeout{10'000};  ///< whole request, from its first byte
  std::chrono::milliseconds idle_timeout{30'000};     ///< between requests of a connection
  std::chrono::milliseconds write_timeout{10'000};    ///< writing one response
  std::chrono::milliseconds shutdown_grace{10'000};   ///< stop(): in-flight requests' allowance
  std::size_t max_connections = 256;                  ///< more are closed at once after accept
};

/// One mutating request (POST, PATCH, PUT, DELETE on /v1/*), for the audit log. Rejected
/// requests (401, 404, 413, ...) are recorded too.
struct AuditRecord {
  std::string method;
  std::string path;
  unsigned status = 0;
  Caller caller = Caller::anonymous;
  std::string remote;  ///< "ip:port" of the client
  std::uint64_t request_id = 0;
  bool response_sent = false;  ///< false when the client was gone or too slow to take it
};

/// Called once per mutating request after its response was written or abandoned.
using AuditHook = std::function<void(const AuditRecord&)>;

namespace detail {
struct ServerState;
}  // namespace detail

/// Parses "127.0.0.1:8080" or "[::1]:8080" (numeric address, port 0 picks a free one).
common::Result<tcp::endpoint> parse_listen_address(std::string_view address);

/// The control plane server. Runs on one (single-threaded) executor; every coroutine it starts
/// shares its state, so destroying the Server early is safe (it closes everything abruptly).
class Server {
 public:
  /// Binds `listen` and starts accepting. A bad address or a port in use is an error value.
  static common::Result<Server> start(net::any_io_executor executor,
                                      std::string_view listen,
                                      Router router,
                                      BearerAuth auth,
                                      ServerLimits limits = {},
                                      AuditHook audit = {});

  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  /// Closes the listener and every connection without waiting (call stop() first to be nice).
  ~Server();

  /// The port actually bound (useful with port 0).
  std::uint16_t bound_port() const;

  /// Graceful stop for SIGTERM: stops accepting, closes idle connections, lets in-flight requests
  /// finish (answered with `Connection: close`) for up to `shutdown_grace`, then closes the rest.
  /// Handlers still running after the grace period finish on their own; their response is lost.
  net::awaitable<void> stop();

 private:
  explicit Server(std::shared_ptr<detail::ServerState> state);
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace backfilld::api
