#include "tests/support/scripted_https_server.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>
#include <stdexcept>

namespace backfilld::testing {
namespace {

std::string fixture_path(std::string_view name) {
  return std::string(BACKFILLD_SOURCE_DIR) + "/tests/unit/fixtures/" + std::string(name);
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

http::response<http::string_body> response_of(const Action& action) {
  http::response<http::string_body> response(static_cast<http::status>(action.status), 11);
  for (const auto& [name, value] : action.headers) response.set(name, value);
  response.body() = action.body;
  response.prepare_payload();
  if (action.connection_close_header) response.keep_alive(false);
  return response;
}

}  // namespace

std::string fixture_ca_file() { return fixture_path("localhost_cert.pem"); }

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (equal_ignoring_case(field, name)) return value;
  }
  return std::nullopt;
}

Action Action::respond(unsigned status, std::string body) {
  Action action;
  action.status = status;
  action.body = std::move(body);
  return action;
}

Action Action::drop(CloseStyle style) {
  Action action;
  action.kind = Kind::kDrop;
  action.close_style = style;
  return action;
}

Action Action::hang() {
  Action action;
  action.kind = Kind::kHang;
  return action;
}

Action Action::truncated_body(unsigned status, std::string body, std::size_t sent_bytes) {
  Action action = respond(status, std::move(body));
  action.kind = Kind::kTruncatedBody;
  action.truncated_to = std::min(sent_bytes, action.body.size());
  return action;
}

Action Action::with_header(std::string name, std::string value) && {
  headers.emplace_back(std::move(name), std::move(value));
  return std::move(*this);
}

Action Action::with_connection_close() && {
  connection_close_header = true;
  return std::move(*this);
}

Action Action::then_close(CloseStyle style) && {
  close_after = true;
  close_style = style;
  return std::move(*this);
}

struct ScriptedHttpsServer::Session {
  Session(tcp::socket socket, ssl::context& tls, std::size_t index)
      : stream(beast::tcp_stream(std::move(socket)), tls), connection(index) {}
  ssl::stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::size_t connection;
  std::size_t requests = 0;
};

ScriptedHttpsServer::ScriptedHttpsServer(net::io_context& io, Script script)
    : io_(io), script_(std::move(script)), tls_(ssl::context::tls_server), acceptor_(io) {
  tls_.use_certificate_chain_file(fixture_path("localhost_cert.pem"));
  tls_.use_private_key_file(fixture_path("localhost_key.pem"), ssl::context::pem);
  const tcp::endpoint local(net::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(local.protocol());
  acceptor_.bind(local);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
}

ScriptedHttpsServer::~ScriptedHttpsServer() { stop(); }

std::string ScriptedHttpsServer::endpoint(std::string_view host) const {
  return "https://" + std::string(host) + ":" + std::to_string(port_);
}

std::vector<std::size_t> ScriptedHttpsServer::requests_per_connection() const {
  std::vector<std::size_t> counts(connections_accepted_, 0);
  for (const auto& request : requests_) ++counts[request.connection];
  return counts;
}

void ScriptedHttpsServer::start() {
  if (started_) throw std::logic_error("ScriptedHttpsServer::run may be called once");
  started_ = true;
  net::co_spawn(io_, accept_loop(), [this](std::exception_ptr failure) {
    if (failure && !script_failure_) script_failure_ = failure;
  });
}

void ScriptedHttpsServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& weak : sessions_) {
    if (auto session = weak.lock()) beast::get_lowest_layer(session->stream).close();
  }
  sessions_.clear();
}

net::awaitable<void> ScriptedHttpsServer::accept_loop() {
  for (;;) {
    boost::system::error_code error;
    tcp::socket socket =
        co_await acceptor_.async_accept(net::redirect_error(net::use_awaitable, error));
    if (error || stopped_) co_return;
    // As the client does: without it, Nagle holds the body behind the header for an ACK.
    socket.set_option(tcp::no_delay(true), error);
    auto session = std::make_shared<Session>(std::move(socket), tls_, connections_accepted_++);
    std::erase_if(sessions_, [](const auto& weak) { return weak.expired(); });
    sessions_.push_back(session);
    peak_open_connections_ = std::max(peak_open_connections_, ++open_connections_);
    net::co_spawn(io_, serve(std::move(session)), [this](std::exception_ptr failure) {
      --open_connections_;
      if (failure && !script_failure_) script_failure_ = failure;
    });
  }
}

net::awaitable<void> ScriptedHttpsServer::serve(std::shared_ptr<Session> session) {
  boost::system::error_code error;
  co_await session->stream.async_handshake(ssl::stream_base::server,
                                           net::redirect_error(net::use_awaitable, error));
  if (error) co_return;
  for (;;) {
    http::request<http::string_body> request;
    co_await http::async_read(session->stream, session->buffer, request,
                              net::redirect_error(net::use_awaitable, error));
    if (error) co_return;

    ReceivedRequest received;
    received.index = requests_.size();
    received.connection = session->connection;
    received.index_on_connection = session->requests++;
    received.received_at = std::chrono::steady_clock::now();
    received.method = std::string(request.method_string());
    received.target = std::string(request.target());
    for (const auto& field : request) {
      received.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    received.body = std::move(request.body());
    requests_.push_back(received);

    const Action action = script_(received, received.index, received.connection);
    const bool keep_serving = action.kind == Action::Kind::kRespond &&
                              !action.connection_close_header && !action.close_after;
    co_await perform(*session, action);
    if (!keep_serving) co_return;
  }
}

net::awaitable<void> ScriptedHttpsServer::perform(Session& session, const Action& action) {
  switch (action.kind) {
    case Action::Kind::kDrop:
      co_await close(session, action.close_style);
      break;
    case Action::Kind::kHang:
      co_await hang(session);
      break;
    case Action::Kind::kTruncatedBody:
      co_await send_truncated(session, action);
      break;
    case Action::Kind::kRespond:
      co_await respond(session, action);
      break;
  }
}

net::awaitable<void> ScriptedHttpsServer::hang(Session& session) {
  // Read (and ignore) until the client gives up and closes, or the server stops.
  std::array<char, 1024> sink{};
  boost::system::error_code error;
  while (!error) {
    co_await session.stream.async_read_some(net::buffer(sink),
                                            net::redirect_error(net::use_awaitable, error));
  }
}

net::awaitable<void> ScriptedHttpsServer::respond(Session& session, const Action& action) {
  const http::response<http::string_body> response = response_of(action);
  boost::system::error_code error;
  co_await http::async_write(session.stream, response,
                             net::redirect_error(net::use_awaitable, error));
  if (!error && (action.connection_close_header || action.close_after)) {
    co_await close(session, action.close_style);
  }
}

net::awaitable<void> ScriptedHttpsServer::send_truncated(Session& session, const Action& action) {
  // The header announces the whole body; only its first `truncated_to` bytes follow.
  std::ostringstream header;
  header << response_of(action).base();
  const std::string wire = header.str() + action.body.substr(0, action.truncated_to);
  boost::system::error_code error;
  co_await net::async_write(session.stream, net::buffer(wire),
                            net::redirect_error(net::use_awaitable, error));
  co_await close(session, action.close_style);
}

net::awaitable<void> ScriptedHttpsServer::close(Session& session, CloseStyle style) {
  if (style == CloseStyle::kTlsShutdown) {
    // Sends close_notify, then waits for the client's answer (or its close, or stop()).
    boost::system::error_code ignored;
    co_await session.stream.async_shutdown(net::redirect_error(net::use_awaitable, ignored));
  }
  beast::get_lowest_layer(session.stream).close();
}

}  // namespace backfilld::testing
