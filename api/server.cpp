#include "api/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <limits>
#include <list>
#include <optional>

#include "api/errors.hpp"
#include "api/message.hpp"

namespace backfilld::api {
namespace {

using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kFirstReadSize = 4096;
// After an error answer with request bytes left unread, keep reading (and dropping) them for a
// moment: closing with unread input resets the connection and can destroy the answer in flight.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr std::size_t kMaxLingerBytes = 8 * 1024 * 1024;
constexpr std::chrono::milliseconds kAcceptBackoff{100};

/// Completion token for expected I/O outcomes: the error lands in `ec` instead of a throw
/// (Boost 1.74 has redirect_error but not as_tuple).
auto into(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

/// Logs what escaped a spawned coroutine; nothing should, so it is an error.
auto log_escaped(std::string_view what) {
  return [what](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("control plane: {} ended by an exception: {}", what, e.what());
    } catch (...) {
      spdlog::error("control plane: {} ended by an unknown exception", what);
    }
  };
}

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

bool is_mutation(std::string_view method) {
  return method == "POST" || method == "PATCH" || method == "PUT" || method == "DELETE";
}

bool is_v1(std::string_view path) { return path == "/v1" || path.starts_with("/v1/"); }

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  const std::string port = std::to_string(endpoint.port());
  return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

/// What a connection is doing, so that stop() knows whom to close at once.
enum class Phase { idle, reading, handling, writing, closing };

/// One accepted connection.
struct Connection {
  Connection(tcp::socket socket, tcp::endpoint remote_endpoint)
      : stream(std::move(socket)),
        remote(std::move(remote_endpoint)),
        remote_text(endpoint_text(remote)) {}
  beast::tcp_stream stream;
  tcp::endpoint remote;
  std::string remote_text;
  Phase phase = Phase::idle;
};

}  // namespace

namespace detail {

/// Everything the server's coroutines share; each holds a reference, so it outlives the Server.
struct ServerState {
  ServerState(net::any_io_executor executor,
              Router routes,
              BearerAuth bearer,
              ServerLimits server_limits,
              AuditHook audit_hook)
      : acceptor(executor),
        drained(executor),
        router(std::move(routes)),
        auth(std::move(bearer)),
        limits(server_limits),
        audit(std::move(audit_hook)) {}

  /// Stops accepting and closes every connection now; handlers keep running to their end.
  void close_all() {
    stopping = true;
    error_code ignored;
    acceptor.close(ignored);
    for (const auto& connection : connections) connection->stream.close();
    drained.cancel();
  }

  tcp::acceptor acceptor;
  net::steady_timer drained;  ///< cancelled when the last connection ends while stopping
  const Router router;
  const BearerAuth auth;
  const ServerLimits limits;
  const AuditHook audit;
  std::list<std::shared_ptr<Connection>> connections;
  std::uint16_t port = 0;
  bool stopping = false;
  std::uint64_t next_request_id = 1;
};

}  // namespace detail

namespace {

using detail::ServerState;

/// What is known of the request being served, for the log line and the audit record.
struct Exchange {
  std::uint64_t id = 0;
  Clock::time_point start;
  std::string method;  ///< empty until the request line parsed
  std::string path;
  Caller caller = Caller::anonymous;
};

/// How a connection goes on after a response.
enum class Next { keep_alive, close, close_after_draining };

/// Serves the requests of one connection, one after the other (HTTP/1.1 keep-alive).
class Session {
 public:
  Session(std::shared_ptr<ServerState> state, std::shared_ptr<Connection> connection)
      : state_(std::move(state)), connection_(std::move(connection)) {}

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ~Session() {
    auto& connections = state_->connections;
    auto self = std::find(connections.begin(), connections.end(), connection_);
    if (self != connections.end()) connections.erase(self);
    if (state_->stopping && connections.empty()) state_->drained.cancel();
  }

  /// The connection's coroutine: serves requests until one side closes, then closes.
  static net::awaitable<void> serve(std::shared_ptr<ServerState> state,
                                    std::shared_ptr<Connection> connection) {
    Session session(std::move(state), std::move(connection));
    Next next = Next::keep_alive;
    while (next == Next::keep_alive) next = co_await session.serve_one();
    co_await session.close(next == Next::close_after_draining);
  }

 private:
  net::awaitable<Next> serve_one() {
    beast::tcp_stream& stream = connection_->stream;
    const ServerLimits& limits = state_->limits;
    error_code ec;

    // Between requests only the idle deadline runs; the request deadline starts with a byte.
    if (buffer_.size() == 0) {
      if (state_->stopping) co_return Next::close;
      connection_->phase = Phase::idle;
      stream.expires_after(limits.idle_timeout);
      const std::size_t read =
          co_await stream.async_read_some(buffer_.prepare(kFirstReadSize), into(ec));
      if (ec) {
        log_close(ec == beast::error::timeout ? "idle deadline" : ec.message());
        co_return Next::close;
      }
      buffer_.commit(read);
    }

    connection_->phase = Phase::reading;
    Exchange exchange{state_->next_request_id++, Clock::now(), {}, {}, Caller::anonymous};
    stream.expires_at(exchange.start + limits.request_timeout);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(limits.body_limit);

    co_await http::async_read_header(stream, buffer_, parser, into(ec));
    const auto& header = parser.get();
    exchange.method = std::string(header.method_string());
    exchange.path = std::string(target_path(header.target()));
    // Decided before any error answer too, so that the audit names the caller of a 413.
    const auto authorization =
        state_->auth.check(exchange.path, header[http::field::authorization]);
    if (authorization) exchange.caller = *authorization;
    if (ec) co_return co_await reject_unreadable(exchange, ec);

    const bool has_body = !parser.is_done();
    const unsigned version = header.version();
    const bool wants_keep_alive = header.keep_alive();

    // Everything decidable from the header is decided before reading a body.
    std::optional<Response> refusal;
    RouteMatch route;
    if (!exchange.path.starts_with('/')) {
      refusal = error_response("invalid_request", "the request target must be an absolute path");
    } else if (!authorization) {
      refusal = error_response(authorization.error().error);
      refusal->set(http::field::www_authenticate, authorization.error().challenge);
    } else {
      route = state_->router.match(header.method(), exchange.path);
      if (!route.found()) {
        refusal = route.error();
      } else if (has_body &&
                 (header.method() == http::verb::post || header.method() == http::verb::patch ||
                  header.method() == http::verb::put) &&
                 !is_json_content_type(header[http::field::content_type])) {
        refusal = error_response("unsupported_media_type",
                                 "request bodies must be Content-Type: application/json");
      }
    }
    if (refusal) {
      // An unread body cannot be skipped reliably, so the connection ends with this answer.
      co_return co_await respond(exchange, std::move(*refusal), version,
                                 wants_keep_alive && !has_body,
                                 has_body ? Next::close_after_draining : Next::close);
    }

    if (has_body && iequals(header[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, version};
      co_await http::async_write(stream, go_on, into(ec));
      if (ec) {
        log_close(ec.message());
        co_return Next::close;
      }
    }
    co_await http::async_read(stream, buffer_, parser, into(ec));
    if (ec) co_return co_await reject_unreadable(exchange, ec);

    Request request{parser.release(), exchange.caller, connection_->remote, exchange.id};
    connection_->phase = Phase::handling;
    stream.expires_never();
    Response response = co_await run_handler(*route.handler, request, route.params, exchange);
    co_return co_await respond(exchange, std::move(response), version, wants_keep_alive,
                               Next::close);
  }

  // A request that could not be read whole: answer what deserves an answer, then close.
  net::awaitable<Next> reject_unreadable(Exchange& exchange, const error_code& ec) {
    std::optional<Response> answer;
    if (ec == http::error::header_limit) {
      answer = error_response("header_too_large", "the request line and headers exceed " +
                                                      std::to_string(state_->limits.header_limit) +
                                                      " bytes");
    } else if (ec == http::error::body_limit) {
      answer = error_response(
          "payload_too_large",
          "the request body exceeds " + std::to_string(state_->limits.body_limit) + " bytes");
    } else if (is_http_error(ec) && ec != http::error::end_of_stream &&
               ec != http::error::partial_message) {
      answer = error_response("invalid_request", "malformed HTTP request: " + ec.message());
    }
    if (!answer) {
      log_close(ec == beast::error::timeout ? "request deadline" : ec.message());
      co_return Next::close;
    }
    co_return co_await respond(exchange, std::move(*answer), 11, false, Next::close_after_draining);
  }

  net::awaitable<Response> run_handler(const Handler& handler,
                                       const Request& request,
                                       const PathParams& params,
                                       const Exchange& exchange) {
    try {
      co_return co_await handler(request, params);
    } catch (const std::exception& e) {
      // The body is never logged: it may carry what encryption is about to protect.
      spdlog::error("control plane: {} {} (request {}) failed: {}", exchange.method, exchange.path,
                    exchange.id, e.what());
    } catch (...) {
      spdlog::error("control plane: {} {} (request {}) failed with an unknown exception",
                    exchange.method, exchange.path, exchange.id);
    }
    co_return error_response("internal", "internal error");
  }

  // Writes `response` with the common headers, then logs and audits the request. A stopping
  // server ends every connection with its current response.
  net::awaitable<Next> respond(
      Exchange& exchange, Response response, unsigned version, bool keep_alive, Next when_closing) {
    keep_alive = keep_alive && !state_->stopping;
    const bool head = exchange.method == "HEAD";
    try {
      finish(response, version, keep_alive, head);
    } catch (const std::exception& e) {
      spdlog::error("control plane: {} {} (request {}): unusable response: {}", exchange.method,
                    exchange.path, exchange.id, e.what());
      response = error_response("internal", "internal error");
      finish(response, version, keep_alive, head);
    }
    connection_->phase = Phase::writing;
    beast::tcp_stream& stream = connection_->stream;
    stream.expires_after(state_->limits.write_timeout);
    error_code ec;
    co_await http::async_write(stream, response, into(ec));
    record(exchange, response.result_int(), !ec);
    if (ec) {
      log_close(ec == beast::error::timeout ? "write deadline" : ec.message());
      co_return Next::close;
    }
    co_return keep_alive ? Next::keep_alive : when_closing;
  }

  static void finish(Response& response, unsigned version, bool keep_alive, bool head) {
    response.version(version);
    response.keep_alive(keep_alive);
    if (response.find(http::field::content_type) == response.end()) {
      response.set(http::field::content_type, "application/json");
    }
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.prepare_payload();
    // A HEAD answer announces the GET body's length but carries none.
    if (head) response.body().clear();
  }

  void record(const Exchange& exchange, unsigned status, bool sent) {
    const auto duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - exchange.start);
    spdlog::debug("control plane: {} {} {} {}ms caller={} remote={} request={}{}",
                  exchange.method.empty() ? "-" : exchange.method,
                  exchange.path.empty() ? "-" : exchange.path, status, duration.count(),
                  to_string(exchange.caller), connection_->remote_text, exchange.id,
                  sent ? "" : " (response not delivered)");
    if (!state_->audit || !is_mutation(exchange.method) || !is_v1(exchange.path)) return;
    try {
      state_->audit(AuditRecord{exchange.method, exchange.path, status, exchange.caller,
                                connection_->remote_text, exchange.id, sent});
    } catch (const std::exception& e) {
      spdlog::error("control plane: audit hook failed for request {}: {}", exchange.id, e.what());
    }
  }

  void log_close(std::string_view reason) const {
    spdlog::debug("control plane: closing connection from {}: {}", connection_->remote_text,
                  reason);
  }

  // Half-closes so the client sees the end of our answer, optionally reads what it still sends.
  net::awaitable<void> close(bool drain) {
    connection_->phase = Phase::closing;
    beast::tcp_stream& stream = connection_->stream;
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (drain && !ec) {
      stream.expires_after(kLingerTimeout);
      std::array<char, 4096> sink;
      std::size_t drained = 0;
      while (drained < kMaxLingerBytes) {
        drained += co_await stream.async_read_some(net::buffer(sink), into(ec));
        if (ec) break;
      }
    }
    stream.close();
  }

  std::shared_ptr<ServerState> state_;
  std::shared_ptr<Connection> connection_;
  beast::flat_buffer buffer_;
};

net::awaitable<void> accept_loop(std::shared_ptr<ServerState> state) {
  for (;;) {
    if (state->stopping) co_return;
    error_code ec;
    tcp::socket socket = co_await state->acceptor.async_accept(into(ec));
    if (state->stopping) co_return;
    if (ec) {
      // Running out of descriptors is the likely cause; give connections a moment to end.
      spdlog::warn("control plane: accept failed: {}", ec.message());
      net::steady_timer backoff(state->acceptor.get_executor(), kAcceptBackoff);
      co_await backoff.async_wait(into(ec));
      continue;
    }
    tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) continue;
    if (state->connections.size() >= state->limits.max_connections) {
      spdlog::warn("control plane: {} connections open, refusing {}", state->connections.size(),
                   endpoint_text(remote));
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket), remote);
    state->connections.push_back(connection);
    net::co_spawn(state->acceptor.get_executor(), Session::serve(state, std::move(connection)),
                  log_escaped("connection"));
  }
}

net::awaitable<void> stop_server(std::shared_ptr<ServerState> state) {
  if (!state->stopping) {
    state->stopping = true;
    error_code ignored;
    state->acceptor.close(ignored);
    for (const auto& connection : state->connections) {
      if (connection->phase == Phase::idle) connection->stream.cancel();
    }
    state->drained.expires_after(state->limits.shutdown_grace);
    spdlog::info("control plane: stopping, {} connection(s) open", state->connections.size());
  }
  if (state->connections.empty()) co_return;
  error_code ec;
  co_await state->drained.async_wait(into(ec));
  if (ec == net::error::operation_aborted || state->connections.empty()) co_return;
  spdlog::warn("control plane: {} request(s) still running after the grace period; closing",
               state->connections.size());
  for (const auto& connection : state->connections) connection->stream.close();
}

}  // namespace

common::Result<tcp::endpoint> parse_listen_address(std::string_view address) {
  auto invalid = [&] {
    return common::fail("invalid_config", "listen address \"" + std::string(address) +
                                              "\" must be IP:port, e.g. 127.0.0.1:8080");
  };
  std::string_view host;
  std::string_view port;
  if (address.starts_with('[')) {
    const std::size_t close = address.find("]:");
    if (close == std::string_view::npos) return invalid();
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return invalid();
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return invalid();
  }
  unsigned port_number = 0;
  const auto [end, parse_error] =
      std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (port.empty() || parse_error != std::errc() || end != port.data() + port.size() ||
      port_number > 65535) {
    return invalid();
  }
  error_code ec;
  const net::ip::address ip = net::ip::make_address(std::string(host), ec);
  if (ec) return invalid();
  return tcp::endpoint(ip, static_cast<std::uint16_t>(port_number));
}

common::Result<Server> Server::start(net::any_io_executor executor,
                                     std::string_view listen,
                                     Router router,
                                     BearerAuth auth,
                                     ServerLimits limits,
                                     AuditHook audit) {
  auto endpoint = parse_listen_address(listen);
  if (!endpoint) return common::Unexpected{endpoint.error()};
  auto state = std::make_shared<ServerState>(executor, std::move(router), std::move(auth), limits,
                                             std::move(audit));
  tcp::acceptor& acceptor = state->acceptor;
  error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return common::fail("listen_failed",
                        "cannot listen on " + std::string(listen) + ": " + ec.message());
  }
  if (!state->auth.enabled() && !endpoint->address().is_loopback()) {
    spdlog::warn(
        "control plane: listening on {} without an API token: anyone who reaches it can run "
        "migrations (set BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE)",
        listen);
  }
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  state->port = bound.port();
  spdlog::info("control plane: listening on {}", endpoint_text(bound));
  net::co_spawn(executor, accept_loop(state), log_escaped("accept loop"));
  return Server(std::move(state));
}

Server::Server(std::shared_ptr<detail::ServerState> state) : state_(std::move(state)) {}

Server::Server(Server&&) noexcept = default;

Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    if (state_) state_->close_all();
    state_ = std::move(other.state_);
  }
  return *this;
}

Server::~Server() {
  if (state_) state_->close_all();
}

std::uint16_t Server::bound_port() const { return state_->port; }

net::awaitable<void> Server::stop() { return stop_server(state_); }

}  // namespace backfilld::api
