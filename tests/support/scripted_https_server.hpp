#pragma once
/// An HTTPS server for unit tests that answers each request as a script says: a response, a
/// dropped connection, silence or a truncated body. It runs on the test's io_context, listens on
/// 127.0.0.1 with a port of its own, and records what it received.
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/common/asio.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::testing {

/// The certificate (self-signed, CA:TRUE, for localhost and 127.0.0.1) the server presents: hand
/// this file to a client as its CA.
std::string fixture_ca_file();

/// One request as the server read it.
struct ReceivedRequest {
  std::size_t index = 0;                ///< in arrival order over all connections
  std::size_t connection = 0;           ///< index of the connection, in accept order
  std::size_t index_on_connection = 0;  ///< 0 for the first request on its connection
  std::chrono::steady_clock::time_point received_at;
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The value of header `name` (case-insensitive), or nullopt when it was not sent.
  std::optional<std::string> header(std::string_view name) const;
};

/// How the server closes a connection: a bare TCP close, or a TLS close_notify first.
enum class CloseStyle { kAbrupt, kTlsShutdown };

/// What the server does with one request.
struct Action {
  enum class Kind {
    kRespond,        ///< answer `status`, `headers`, `body`
    kDrop,           ///< close the connection without answering
    kHang,           ///< never answer; keep the connection open
    kTruncatedBody,  ///< announce the whole body, send `truncated_to` bytes of it, close
  };
  Kind kind = Kind::kRespond;
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  bool connection_close_header = false;  ///< send `Connection: close`, then close
  bool close_after = false;              ///< close after answering without saying so
  CloseStyle close_style = CloseStyle::kAbrupt;
  std::size_t truncated_to = 0;

  static Action respond(unsigned status, std::string body = "{}");
  static Action drop(CloseStyle style = CloseStyle::kAbrupt);
  static Action hang();
  static Action truncated_body(unsigned status, std::string body, std::size_t sent_bytes);

  Action with_header(std::string name, std::string value) &&;
  /// Answers with `Connection: close` and closes the connection.
  Action with_connection_close() &&;
  /// Closes the connection after answering, as a server does when its idle timeout passes.
  Action then_close(CloseStyle style = CloseStyle::kAbrupt) &&;
};

/// Decides the action for a request: (request, its index over all requests, its connection).
using Script = std::function<Action(
    const ReceivedRequest& request, std::size_t request_index, std::size_t connection_index)>;

class ScriptedHttpsServer {
 public:
  /// Listens on 127.0.0.1 with an ephemeral port; serves only while `run` runs.
  ScriptedHttpsServer(net::io_context& io, Script script);
  ~ScriptedHttpsServer();
  ScriptedHttpsServer(const ScriptedHttpsServer&) = delete;
  ScriptedHttpsServer& operator=(const ScriptedHttpsServer&) = delete;

  unsigned short port() const { return port_; }
  /// "https://{host}:{port}", for ClientOptions::endpoint.
  std::string endpoint(std::string_view host = "127.0.0.1") const;

  /// Serves while `task` runs on the io_context, then closes every connection and returns what
  /// `task` returned (or rethrows what it or the script threw). Call it once.
  template <class T>
  T run(net::awaitable<T> task) {
    start();
    return run_sync(io_, stop_after<T>(*this, std::move(task)));
  }

  const std::vector<ReceivedRequest>& requests() const { return requests_; }
  std::size_t connections_accepted() const { return connections_accepted_; }
  /// The most connections that were open at the same time.
  std::size_t peak_open_connections() const { return peak_open_connections_; }
  /// How many requests each connection carried, by connection index.
  std::vector<std::size_t> requests_per_connection() const;

 private:
  struct Session;

  template <class T>
  static net::awaitable<T> stop_after(ScriptedHttpsServer& server, net::awaitable<T> task) {
    std::exception_ptr failure;
    std::optional<T> result;
    try {
      result.emplace(co_await std::move(task));
    } catch (...) {
      failure = std::current_exception();
    }
    server.stop();
    if (failure) std::rethrow_exception(failure);
    if (server.script_failure_) std::rethrow_exception(server.script_failure_);
    co_return std::move(*result);
  }

  void start();
  void stop();
  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(std::shared_ptr<Session> session);
  net::awaitable<void> perform(Session& session, const Action& action);
  net::awaitable<void> hang(Session& session);
  net::awaitable<void> respond(Session& session, const Action& action);
  net::awaitable<void> send_truncated(Session& session, const Action& action);
  net::awaitable<void> close(Session& session, CloseStyle style);

  net::io_context& io_;
  Script script_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::vector<std::weak_ptr<Session>> sessions_;
  std::vector<ReceivedRequest> requests_;
  std::size_t connections_accepted_ = 0;
  std::size_t open_connections_ = 0;
  std::size_t peak_open_connections_ = 0;
  std::exception_ptr script_failure_;
  bool started_ = false;
  bool stopped_ = false;
};

template <>
inline net::awaitable<void> ScriptedHttpsServer::stop_after<void>(ScriptedHttpsServer& server,
                                                                  net::awaitable<void> task) {
  std::exception_ptr failure;
  try {
    co_await std::move(task);
  } catch (...) {
    failure = std::current_exception();
  }
  server.stop();
  if (failure) std::rethrow_exception(failure);
  if (server.script_failure_) std::rethrow_exception(server.script_failure_);
}

}  // namespace backfilld::testing
