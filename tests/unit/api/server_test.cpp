// g++ 12 with -fsanitize=address,undefined reports a false "may be used uninitialized" inside
// Beast's response parser (a boost::optional content length); the client side of these tests
// instantiates it, the daemon does not.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "api/server.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <array>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "api/errors.hpp"
#include "daemon/common/json.hpp"

namespace backfilld::api {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using Reply = http::response<http::string_body>;
using OutgoingRequest = http::request<http::string_body>;

constexpr std::string_view kToken = "test-token-0123456789";
// A client gives up on the server after this long; no test should come near it.
constexpr auto kClientPatience = 5s;

auto into(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

/// A one-shot signal between coroutines: set() wakes every wait(), now and later.
class Event {
 public:
  explicit Event(net::any_io_executor executor)
      : timer_(executor, net::steady_timer::time_point::max()) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }
  net::awaitable<void> wait() {
    if (set_) co_return;
    error_code ignored;
    co_await timer_.async_wait(into(ignored));
  }

 private:
  net::steady_timer timer_;
  bool set_ = false;
};

/// Captures what the server logs, at debug level, for the test's lifetime.
class LogCapture {
 public:
  LogCapture()
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_st>(text_))) {
    logger_->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger_);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

/// Runs `body()` on `io` until it and everything it started are done (20 s at most); a failure
/// stops at once, leaving whatever still waits to the io_context's destructor.
template <class Body>
void run(net::io_context& io, Body&& body) {
  bool done = false;
  std::exception_ptr failure;
  net::co_spawn(io, body(), [&](std::exception_ptr error) {
    done = true;
    failure = error;
    if (failure) io.stop();
  });
  io.run_for(20s);
  if (failure) std::rethrow_exception(failure);
  REQUIRE(done);
}

/// Starts `coroutine` alongside the test; an exception in it fails the test.
void spawn(net::io_context& io, net::awaitable<void> coroutine) {
  net::co_spawn(io, std::move(coroutine), [](std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
  });
}

/// How a connection ended from the client's side.
struct Ending {
  bool closed = false;    ///< the server closed it (EOF or reset), not our patience
  std::size_t bytes = 0;  ///< bytes that arrived before the end
};

/// A Beast client on one connection.
struct Client {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;

  static net::awaitable<Client> connect(std::uint16_t port, int receive_buffer = 0) {
    // Not inside the braces below: g++ 12 miscompiles co_await in an aggregate initializer.
    const auto executor = co_await net::this_coro::executor;
    Client client{beast::tcp_stream(executor), {}};
    client.stream.socket().open(tcp::v4());
    if (receive_buffer > 0) {
      client.stream.socket().set_option(net::socket_base::receive_buffer_size(receive_buffer));
    }
    client.stream.expires_after(kClientPatience);
    co_await client.stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                         net::use_awaitable);
    co_return client;
  }

  net::awaitable<Reply> send(OutgoingRequest request) {
    stream.expires_after(kClientPatience);
    co_await http::async_write(stream, request, net::use_awaitable);
    co_return co_await read();
  }

  net::awaitable<Reply> read() {
    stream.expires_after(kClientPatience);
    Reply reply;
    co_await http::async_read(stream, buffer, reply, net::use_awaitable);
    co_return reply;
  }

  net::awaitable<void> write_raw(std::string_view bytes) {
    stream.expires_after(kClientPatience);
    co_await net::async_write(stream, net::buffer(bytes), net::use_awaitable);
  }

  /// Reads until the connection ends, then closes our side too.
  net::awaitable<Ending> ending() {
    Ending ending{false, buffer.size()};
    stream.expires_after(kClientPatience);
    std::array<char, 4096> sink;
    error_code ec;
    while (!ec) ending.bytes += co_await stream.async_read_some(net::buffer(sink), into(ec));
    ending.closed = ec == net::error::eof || ec == net::error::connection_reset;
    stream.close();
    co_return ending;
  }

  std::uint16_t local_port() const { return stream.socket().local_endpoint().port(); }
};

OutgoingRequest make_request(http::verb method,
                             std::string target,
                             std::string body = {},
                             std::string_view token = kToken) {
  OutgoingRequest request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

std::string error_code_of(const Reply& reply) {
  auto body = common::parse_json(reply.body());
  REQUIRE(body.ok());
  auto code = common::string_member((*body)["error"], "code");
  REQUIRE(code.has_value());
  return std::string(*code);
}

/// Checks the headers every response must carry.
void check_common_headers(const Reply& reply) {
  CHECK_FALSE(reply[http::field::content_type].empty());
  CHECK(reply[http::field::cache_control] == "no-store");
}

/// Routes of the tests, with the signals their slow handlers use.
struct Fixture {
  explicit Fixture(net::io_context& io) : started(io.get_executor()), release(io.get_executor()) {}

  Router routes() {
    Router router;
    auto ok = [](http::status status) {
      return [status](const Request&, const PathParams&) -> net::awaitable<Response> {
        co_return json_response(status, std::string(R"({"ok":true})"));
      };
    };
    router.add(http::verb::get, "/healthz", ok(http::status::ok))
        .add(http::verb::post, "/v1/items", ok(http::status::created))
        .add(http::verb::patch, "/v1/items/{id}", ok(http::status::ok))
        .add(http::verb::put, "/v1/items/{id}", ok(http::status::ok))
        .add(http::verb::delete_, "/v1/items/{id}", ok(http::status::ok))
        .add(http::verb::get, "/v1/items/{id}",
             [](const Request& request, const PathParams& params) -> net::awaitable<Response> {
               co_return json_response(http::status::ok,
                                       R"({"id":")" + std::string(params.at("id")) +
                                           R"(","remotePort":)" +
                                           std::to_string(request.remote.port()) + "}");
             })
        .add(http::verb::post, "/v1/echo",
             [](const Request& request, const PathParams&) -> net::awaitable<Response> {
               co_return json_response(
                   http::status::ok,
                   R"({"length":)" + std::to_string(request.message.body().size()) +
                       R"(,"caller":")" + std::string(to_string(request.caller)) + R"("})");
             })
        .add(http::verb::post, "/v1/throw",
             [](const Request&, const PathParams&) -> net::awaitable<Response> {
               throw std::runtime_error("handler bug");
               co_return Response{};
             })
        .add(http::verb::get, "/v1/slow",
             [this](const Request&, const PathParams&) -> net::awaitable<Response> {
               started.set();
               co_await release.wait();
               co_return json_response(http::status::ok, std::string(R"({"slow":true})"));
             })
        .add(http::verb::post, "/v1/big",
             [](const Request&, const PathParams&) -> net::awaitable<Response> {
               co_return text_response(http::status::ok, std::string(32 << 20, 'x'), "text/plain");
             });
    return router;
  }

  Server start(net::io_context& io,
               ServerLimits limits = {},
               AuditHook audit = {},
               bool with_token = true) {
    BearerAuth auth = BearerAuth::disabled();
    if (with_token) auth = BearerAuth::with_token(kToken).value();
    auto server = Server::start(io.get_executor(), "127.0.0.1:0", routes(), std::move(auth), limits,
                                std::move(audit));
    REQUIRE(server.ok());
    REQUIRE(server->bound_port() != 0);
    return std::move(server).value();
  }

  Event started;
  Event release;
};

}  // namespace

TEST_CASE("server: keep-alive serves several requests, pipelined too, on one connection") {
  net::io_context io;
  Fixture fixture(io);
  LogCapture log;
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());
    for (int i = 0; i < 3; ++i) {
      Reply reply =
          co_await client.send(make_request(http::verb::get, "/v1/items/i" + std::to_string(i)));
      CHECK(reply.result() == http::status::ok);
      CHECK(reply.keep_alive());
      CHECK(reply[http::field::content_type] == "application/json");
      check_common_headers(reply);
      CHECK(reply.body() == R"({"id":"i)" + std::to_string(i) + R"(","remotePort":)" +
                                std::to_string(client.local_port()) + "}");
    }
    Reply missing = co_await client.send(make_request(http::verb::get, "/v1/nothing"));
    CHECK(missing.result() == http::status::not_found);
    CHECK(error_code_of(missing) == "not_found");
    check_common_headers(missing);
    // A target in absolute form is the same resource; "*" is no resource at all.
    Reply absolute =
        co_await client.send(make_request(http::verb::get, "http://127.0.0.1/v1/items/abs"));
    CHECK(absolute.body().find(R"("id":"abs")") != std::string::npos);
    Reply asterisk = co_await client.send(make_request(http::verb::options, "*"));
    CHECK(asterisk.result() == http::status::bad_request);
    CHECK(asterisk.keep_alive());
    Reply wrong_method = co_await client.send(make_request(http::verb::delete_, "/v1/echo"));
    CHECK(wrong_method.result() == http::status::method_not_allowed);
    CHECK(wrong_method[http::field::allow] == "POST");

    // Two requests in one write: both answered, in order.
    std::ostringstream both;
    both << make_request(http::verb::get, "/v1/items/p1")
         << make_request(http::verb::post, "/v1/echo", R"({"a":1})");
    co_await client.write_raw(both.str());
    Reply first = co_await client.read();
    Reply second = co_await client.read();
    CHECK(first.body().find(R"("id":"p1")") != std::string::npos);
    CHECK(second.body() == R"({"length":7,"caller":"token"})");
    co_await server.stop();
  });
  // One debug line per request: method, path, status, duration, caller.
  const std::string text = log.text();
  CHECK(text.find("GET /v1/items/i0 200 ") != std::string::npos);
  CHECK(text.find("GET /v1/nothing 404 ") != std::string::npos);
  CHECK(text.find("POST /v1/echo 200 ") != std::string::npos);
  CHECK(text.find("caller=token") != std::string::npos);
  CHECK(text.find(R"({"a":1})") == std::string::npos);
}

TEST_CASE("server: a body over the limit is 413, then the connection closes") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    const std::string at_limit(1024 * 1024, ' ');

    Client fits = co_await Client::connect(server.bound_port());
    Reply accepted = co_await fits.send(make_request(http::verb::post, "/v1/echo", at_limit));
    CHECK(accepted.result() == http::status::ok);

    Client sized = co_await Client::connect(server.bound_port());
    Reply too_large =
        co_await sized.send(make_request(http::verb::post, "/v1/echo", at_limit + " "));
    CHECK(too_large.result() == http::status::payload_too_large);
    CHECK(error_code_of(too_large) == "payload_too_large");
    CHECK_FALSE(too_large.keep_alive());
    check_common_headers(too_large);
    CHECK((co_await sized.ending()).closed);

    // Without a Content-Length the limit applies as the chunks arrive.
    Client chunked = co_await Client::connect(server.bound_port());
    OutgoingRequest request = make_request(http::verb::post, "/v1/echo", at_limit + " ");
    request.chunked(true);
    Reply chunked_reply = co_await chunked.send(std::move(request));
    CHECK(chunked_reply.result() == http::status::payload_too_large);
    CHECK((co_await chunked.ending()).closed);
    co_await server.stop();
  });
}

TEST_CASE("server: headers over the limit are 431, then the connection closes") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());
    OutgoingRequest small = make_request(http::verb::get, "/v1/items/1");
    small.set("X-Padding", std::string(6000, 'a'));
    CHECK((co_await client.send(small)).result() == http::status::ok);

    OutgoingRequest large = make_request(http::verb::get, "/v1/items/1");
    large.set("X-Padding", std::string(9000, 'a'));
    Reply reply = co_await client.send(large);
    CHECK(reply.result() == http::status::request_header_fields_too_large);
    CHECK(error_code_of(reply) == "header_too_large");
    check_common_headers(reply);
    CHECK((co_await client.ending()).closed);
    co_await server.stop();
  });
}

TEST_CASE("server: a POST or PATCH body must be application/json") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    for (const char* content_type : {"text/plain", "application/json; charset=latin1", ""}) {
      CAPTURE(content_type);
      Client client = co_await Client::connect(server.bound_port());
      OutgoingRequest request = make_request(http::verb::post, "/v1/echo", "{}");
      request.set(http::field::content_type, content_type);
      Reply reply = co_await client.send(std::move(request));
      CHECK(reply.result() == http::status::unsupported_media_type);
      CHECK(error_code_of(reply) == "unsupported_media_type");
      CHECK((co_await client.ending()).closed);
    }
    Client patcher = co_await Client::connect(server.bound_port());
    OutgoingRequest patch = make_request(http::verb::patch, "/v1/items/1", "{}");
    patch.set(http::field::content_type, "text/csv");
    CHECK((co_await patcher.send(std::move(patch))).result() ==
          http::status::unsupported_media_type);

    Client client = co_await Client::connect(server.bound_port());
    OutgoingRequest utf8 = make_request(http::verb::post, "/v1/echo", "{}");
    utf8.set(http::field::content_type, "application/json; charset=utf-8");
    CHECK((co_await client.send(std::move(utf8))).result() == http::status::ok);
    // No body, no Content-Type needed (e.g. POST /v1/jobs/{id}/pause).
    CHECK((co_await client.send(make_request(http::verb::post, "/v1/echo"))).result() ==
          http::status::ok);
    co_await server.stop();
  });
}

TEST_CASE("server: malformed HTTP is 400 JSON, then the connection closes") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    for (std::string_view garbage :
         {std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n"),
          std::string_view("GET /v1/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: ab\r\n\r\n"),
          std::string_view("GET /v1/items/1 HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n"),
          // Request smuggling shapes: two lengths, or a length and chunking.
          std::string_view("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                           "Content-Length: 3\r\n\r\n{}"),
          std::string_view("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")}) {
      CAPTURE(garbage);
      Client client = co_await Client::connect(server.bound_port());
      co_await client.write_raw(garbage);
      Reply reply = co_await client.read();
      CHECK(reply.result() == http::status::bad_request);
      CHECK(error_code_of(reply) == "invalid_request");
      check_common_headers(reply);
      CHECK((co_await client.ending()).closed);
    }
    co_await server.stop();
  });
}

TEST_CASE("server: /v1 needs the bearer token, probes do not") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());

    Reply missing = co_await client.send(make_request(http::verb::post, "/v1/echo", {}, ""));
    CHECK(missing.result() == http::status::unauthorized);
    CHECK(missing[http::field::www_authenticate] == "Bearer");
    CHECK(error_code_of(missing) == "unauthorized");
    check_common_headers(missing);

    Reply wrong = co_await client.send(make_request(http::verb::get, "/v1/items/1", {}, "nope"));
    CHECK(wrong.result() == http::status::unauthorized);
    CHECK(wrong[http::field::www_authenticate] == R"(Bearer error="invalid_token")");

    // Unknown paths are closed too: no token, no hint about what exists.
    Reply unknown = co_await client.send(make_request(http::verb::get, "/v2/anything", {}, ""));
    CHECK(unknown.result() == http::status::unauthorized);

    Reply health = co_await client.send(make_request(http::verb::get, "/healthz", {}, ""));
    CHECK(health.result() == http::status::ok);

    Reply right = co_await client.send(make_request(http::verb::post, "/v1/echo"));
    CHECK(right.result() == http::status::ok);
    CHECK(right.body() == R"({"length":0,"caller":"token"})");
    co_await server.stop();
  });
}

TEST_CASE("server: without a configured token callers are anonymous") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io, {}, {}, false);
    Client client = co_await Client::connect(server.bound_port());
    Reply reply = co_await client.send(make_request(http::verb::post, "/v1/echo", {}, ""));
    CHECK(reply.body() == R"({"length":0,"caller":"anonymous"})");
    co_await server.stop();
  });
}

TEST_CASE("server: idle connections close after the idle deadline") {
  net::io_context io;
  Fixture fixture(io);
  ServerLimits limits;
  limits.idle_timeout = 150ms;
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io, limits);
    const auto start = std::chrono::steady_clock::now();
    Client silent = co_await Client::connect(server.bound_port());
    Ending ending = co_await silent.ending();
    CHECK(ending.closed);
    CHECK(ending.bytes == 0);
    CHECK(std::chrono::steady_clock::now() - start >= 150ms);

    Client after_request = co_await Client::connect(server.bound_port());
    CHECK((co_await after_request.send(make_request(http::verb::get, "/healthz"))).result() ==
          http::status::ok);
    ending = co_await after_request.ending();
    CHECK(ending.closed);
    CHECK(ending.bytes == 0);
    co_await server.stop();
  });
}

TEST_CASE("server: a request must arrive whole within the request deadline") {
  net::io_context io;
  Fixture fixture(io);
  ServerLimits limits;
  limits.request_timeout = 200ms;
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io, limits);

    // Half a header, then nothing: the idle deadline (30 s) is not what closes it.
    Client half_header = co_await Client::connect(server.bound_port());
    co_await half_header.write_raw("POST /v1/echo HTTP/1.1\r\nHost: x\r\n");
    Ending ending = co_await half_header.ending();
    CHECK(ending.closed);
    CHECK(ending.bytes == 0);

    // A whole header, half a body.
    Client half_body = co_await Client::connect(server.bound_port());
    co_await half_body.write_raw(
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token-0123456789\r\n"
        "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"a\"");
    ending = co_await half_body.ending();
    CHECK(ending.closed);
    CHECK(ending.bytes == 0);

    // A byte every 20 ms keeps every single read short, but not the request.
    Client drip = co_await Client::connect(server.bound_port());
    const std::string request =
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n{}";
    net::steady_timer pace(co_await net::this_coro::executor);
    std::size_t sent = 0;
    error_code ec;
    while (sent < request.size() && !ec) {
      co_await net::async_write(drip.stream, net::buffer(request.data() + sent, 1), into(ec));
      if (!ec) ++sent;
      pace.expires_after(20ms);
      co_await pace.async_wait(net::use_awaitable);
    }
    CHECK(sent < request.size());
    if (!ec) CHECK((co_await drip.ending()).closed);
    co_await server.stop();
  });
}

TEST_CASE("server: a client too slow to read the response is cut off at the write deadline") {
  net::io_context io;
  Fixture fixture(io);
  ServerLimits limits;
  limits.write_timeout = 200ms;
  std::vector<AuditRecord> records;
  Event audited(io.get_executor());
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io, limits, [&](const AuditRecord& record) {
      records.push_back(record);
      audited.set();
    });
    Client reader = co_await Client::connect(server.bound_port(), 4096);
    co_await http::async_write(reader.stream, make_request(http::verb::post, "/v1/big"),
                               net::use_awaitable);
    // The client reads nothing; the server gives up on the 32 MiB answer and says so.
    co_await audited.wait();
    REQUIRE(records.size() == 1);
    CHECK(records[0].status == 200);
    CHECK_FALSE(records[0].response_sent);
    co_await server.stop();
  });
}

TEST_CASE("server: the audit hook sees every mutation on /v1, and only those") {
  net::io_context io;
  Fixture fixture(io);
  std::vector<AuditRecord> records;
  run(io, [&]() -> net::awaitable<void> {
    Server server =
        fixture.start(io, {}, [&](const AuditRecord& record) { records.push_back(record); });
    Client client = co_await Client::connect(server.bound_port());
    co_await client.send(make_request(http::verb::get, "/v1/items/1"));
    co_await client.send(make_request(http::verb::post, "/v1/items", "{}"));
    co_await client.send(make_request(http::verb::patch, "/v1/items/1", "{}"));
    co_await client.send(make_request(http::verb::put, "/v1/items/1", "{}"));
    co_await client.send(make_request(http::verb::delete_, "/v1/items/1"));
    co_await client.send(make_request(http::verb::post, "/healthz"));
    co_await client.send(make_request(http::verb::post, "/v1/items", {}, ""));
    co_await client.send(make_request(http::verb::post, "/v1/unknown"));
    Client oversized = co_await Client::connect(server.bound_port());
    co_await oversized.send(
        make_request(http::verb::post, "/v1/echo", std::string(1024 * 1024 + 1, ' ')));
    co_await oversized.ending();
    // stop() waits for the last response, and with it the last audit record.
    co_await server.stop();
  });
  struct Expected {
    std::string method;
    std::string path;
    unsigned status;
    Caller caller;
  };
  const std::vector<Expected> expected{
      // clang-format off
      {"POST", "/v1/items", 201, Caller::token},
      {"PATCH", "/v1/items/1", 200, Caller::token},
      {"PUT", "/v1/items/1", 200, Caller::token},
      {"DELETE", "/v1/items/1", 200, Caller::token},
      {"POST", "/v1/items", 401, Caller::anonymous},
      {"POST", "/v1/unknown", 404, Caller::token},
      {"POST", "/v1/echo", 413, Caller::token},
      // clang-format on
  };
  REQUIRE(records.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(records[i].method == expected[i].method);
    CHECK(records[i].path == expected[i].path);
    CHECK(records[i].status == expected[i].status);
    CHECK(records[i].caller == expected[i].caller);
    CHECK(records[i].response_sent);
    CHECK(records[i].remote.starts_with("127.0.0.1:"));
    if (i > 0) CHECK(records[i].request_id > records[i - 1].request_id);
  }
}

TEST_CASE("server: a throwing handler is a 500 that echoes nothing, and the connection lives") {
  net::io_context io;
  Fixture fixture(io);
  LogCapture log;
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());
    Reply reply =
        co_await client.send(make_request(http::verb::post, "/v1/throw", R"({"secret":"s3"})"));
    CHECK(reply.result() == http::status::internal_server_error);
    CHECK(error_code_of(reply) == "internal");
    CHECK(reply.body().find("handler bug") == std::string::npos);
    CHECK(reply.body().find("s3") == std::string::npos);
    check_common_headers(reply);
    CHECK((co_await client.send(make_request(http::verb::get, "/healthz"))).result() ==
          http::status::ok);
    co_await server.stop();
  });
  const std::string text = log.text();
  CHECK(text.find("POST /v1/throw (request 1) failed: handler bug") != std::string::npos);
  CHECK(text.find("s3") == std::string::npos);
}

TEST_CASE("server: Expect: 100-continue gets an interim answer before the body") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());
    OutgoingRequest request = make_request(http::verb::post, "/v1/echo", R"({"big":true})");
    request.set(http::field::expect, "100-continue");
    http::request_serializer<http::string_body> serializer(request);
    co_await http::async_write_header(client.stream, serializer, net::use_awaitable);
    Reply interim = co_await client.read();
    CHECK(interim.result() == http::status::continue_);
    co_await http::async_write(client.stream, serializer, net::use_awaitable);
    Reply reply = co_await client.read();
    CHECK(reply.result() == http::status::ok);
    CHECK(reply.body() == R"({"length":12,"caller":"token"})");
    co_await server.stop();
  });
}

TEST_CASE("server: HEAD is answered with the GET headers and no body") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());
    co_await http::async_write(client.stream, make_request(http::verb::head, "/healthz"),
                               net::use_awaitable);
    http::response_parser<http::string_body> head_parser;
    head_parser.skip(true);
    co_await http::async_read(client.stream, client.buffer, head_parser, net::use_awaitable);
    CHECK(head_parser.get().result() == http::status::ok);
    CHECK(head_parser.get()[http::field::content_length] == "11");
    CHECK(head_parser.get().body().empty());
    // Had a body been sent, this answer would be read from its bytes.
    Reply next = co_await client.send(make_request(http::verb::get, "/healthz"));
    CHECK(next.body() == R"({"ok":true})");
    co_await server.stop();
  });
}

TEST_CASE("server: HTTP/1.0 without keep-alive is answered, then closed") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    Client client = co_await Client::connect(server.bound_port());
    co_await client.write_raw("GET /healthz HTTP/1.0\r\n\r\n");
    Reply reply = co_await client.read();
    CHECK(reply.result() == http::status::ok);
    CHECK(reply.version() == 10);
    CHECK((co_await client.ending()).closed);
    co_await server.stop();
  });
}

TEST_CASE("server: connections over the limit are closed at once") {
  net::io_context io;
  Fixture fixture(io);
  ServerLimits limits;
  limits.max_connections = 1;
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io, limits);
    Client first = co_await Client::connect(server.bound_port());
    CHECK((co_await first.send(make_request(http::verb::get, "/healthz"))).result() ==
          http::status::ok);
    Client second = co_await Client::connect(server.bound_port());
    Ending ending = co_await second.ending();
    CHECK(ending.closed);
    CHECK(ending.bytes == 0);
    CHECK((co_await first.send(make_request(http::verb::get, "/healthz"))).result() ==
          http::status::ok);
    co_await server.stop();
  });
}

TEST_CASE("server: stop() closes idle connections and lets an in-flight request finish") {
  net::io_context io;
  Fixture fixture(io);
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io);
    const std::uint16_t port = server.bound_port();
    Client idle = co_await Client::connect(port);
    CHECK((co_await idle.send(make_request(http::verb::get, "/healthz"))).result() ==
          http::status::ok);

    Client busy = co_await Client::connect(port);
    std::optional<Reply> slow_reply;
    Event answered(io.get_executor());
    // Named, so that the lambdas (and their captures) outlive the coroutines they start.
    auto send_slow = [&]() -> net::awaitable<void> {
      slow_reply = co_await busy.send(make_request(http::verb::get, "/v1/slow"));
      answered.set();
    };
    spawn(io, send_slow());
    co_await fixture.started.wait();

    Event stopped(io.get_executor());
    auto stop_server = [&]() -> net::awaitable<void> {
      co_await server.stop();
      stopped.set();
    };
    spawn(io, stop_server());

    Ending idle_ending = co_await idle.ending();
    CHECK(idle_ending.closed);
    beast::tcp_stream late(co_await net::this_coro::executor);
    error_code ec;
    co_await late.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), into(ec));
    CHECK(ec == net::error::connection_refused);
    CHECK_FALSE(stopped.is_set());

    fixture.release.set();
    co_await answered.wait();
    REQUIRE(slow_reply.has_value());
    CHECK(slow_reply->result() == http::status::ok);
    CHECK_FALSE(slow_reply->keep_alive());
    CHECK((co_await busy.ending()).closed);
    // stop() returns once the last connection is gone, which the busy one just was.
    co_await stopped.wait();
  });
}

TEST_CASE("server: stop() gives in-flight requests the grace period, not more") {
  net::io_context io;
  Fixture fixture(io);
  ServerLimits limits;
  limits.shutdown_grace = 200ms;
  run(io, [&]() -> net::awaitable<void> {
    Server server = fixture.start(io, limits);
    Client busy = co_await Client::connect(server.bound_port());
    co_await http::async_write(busy.stream, make_request(http::verb::get, "/v1/slow"),
                               net::use_awaitable);
    co_await fixture.started.wait();

    const auto start = std::chrono::steady_clock::now();
    co_await server.stop();
    CHECK(std::chrono::steady_clock::now() - start >= 200ms);
    Ending ending = co_await busy.ending();
    CHECK(ending.closed);
    CHECK(ending.bytes == 0);
    // The handler still runs to its end; its answer goes nowhere.
    fixture.release.set();
  });
}

TEST_CASE("server: listen addresses") {
  CHECK(parse_listen_address("127.0.0.1:0").ok());
  auto v6 = parse_listen_address("[::1]:8080");
  REQUIRE(v6.ok());
  CHECK(v6->port() == 8080);
  CHECK(v6->address().is_v6());
  for (std::string_view bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                               "localhost:80", "::1:80", "[::1]80", "127.0.0.1:80x"}) {
    CAPTURE(bad);
    auto parsed = parse_listen_address(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "invalid_config");
  }

  net::io_context io;
  auto first = Server::start(io.get_executor(), "127.0.0.1:0", Router{}, BearerAuth::disabled());
  REQUIRE(first.ok());
  auto second = Server::start(io.get_executor(), "127.0.0.1:" + std::to_string(first->bound_port()),
                              Router{}, BearerAuth::disabled());
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == "listen_failed");
  CHECK(second.error().message.find(std::to_string(first->bound_port())) != std::string::npos);
}

}  // namespace backfilld::api
