// A Cosmos stand-in for the scale benchmark: it serves the REST subset the daemon uses, over
// HTTPS with keep-alive, for N synthetic notes of about 1 KB generated on the fly, and
// acknowledges every write without storing it, so the daemon's own limits show.
//
//   null_backend --cert FILE --key FILE --documents N [--port P] [--latency-ms M]
//
// Prints "listening on port P" once ready. Serves:
//   POST .../docs (query)  pages of the synthetic notes; continuation {"next":K}
//   POST .../docs (batch)  one {"statusCode":200,...} per operation, in order
//   PUT  .../docs/{id}     200 with etag, request charge and session token
//   GET  .../docs/{id}     the synthetic note with that id
//   GET  .../pkranges      one range
// Writes are not kept: a second scan sees the same plaintext notes.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "daemon/common/asio.hpp"

namespace backfilld::bench {
namespace {

struct Options {
  std::string cert;
  std::string key;
  std::uint64_t documents = 10'000;
  unsigned short port = 0;
  int latency_ms = 0;
};

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::string_view kBodyText =
    "Meeting notes: the quarterly planning session covered roadmap priorities, hiring, the "
    "migration of legacy storage, customer escalations and the on-call rotation. Action items "
    "were assigned to each owner with due dates; follow-ups are tracked in the shared board. ";

/// Note `index` as the service would return it: deterministic, about 1 KB.
void append_note(std::uint64_t index, std::string& out) {
  char head[256];
  const int length = std::snprintf(
      head, sizeof(head),
      R"({"id":"note-%08llu","workspaceId":"ws-%05llu","userId":"u-%llu","productId":"notelett",)"
      R"("title":"Note %llu","createdAt":"2026-01-01T00:00:00.000Z","body":")",
      static_cast<unsigned long long>(index), static_cast<unsigned long long>(index / 10),
      static_cast<unsigned long long>(index % 97), static_cast<unsigned long long>(index));
  out.append(head, static_cast<std::size_t>(length));
  for (int i = 0; i < 3; ++i) out += kBodyText;
  const int tail = std::snprintf(
      head, sizeof(head),
      R"(","_rid":"rid%llu","_self":"x","_etag":"\"%016llx-0000\"","_attachments":"a/","_ts":1767225600})",
      static_cast<unsigned long long>(index), static_cast<unsigned long long>(index));
  out.append(head, static_cast<std::size_t>(tail));
}

std::uint64_t number_after(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return 0;
  std::uint64_t value = 0;
  const char* begin = text.data() + at + key.size();
  std::from_chars(begin, text.data() + text.size(), value);
  return value;
}

class Backend {
 public:
  explicit Backend(const Options& options) : options_(options) {}

  Response answer(const Request& request) {
    Response response(http::status::ok, request.version());
    response.set(http::field::content_type, "application/json");
    response.set("x-ms-request-charge", "1.0");
    response.set("x-ms-session-token", "0:1#" + std::to_string(++requests_));
    response.set("x-ms-activity-id", "00000000-0000-0000-0000-000000000000");
    response.keep_alive(request.keep_alive());
    const std::string_view target = request.target();
    const auto header = [&](std::string_view name) { return request[name]; };
    if (request.method() == http::verb::post && header("x-ms-documentdb-isquery") == "True") {
      query(request, response);
    } else if (request.method() == http::verb::post &&
               header("x-ms-cosmos-is-batch-request") == "True") {
      batch(request, response);
    } else if (request.method() == http::verb::put && target.find("/docs/") != target.npos) {
      response.set(http::field::etag, "\"" + std::to_string(requests_) + "-put\"");
      response.set("x-ms-request-charge", "10.29");
    } else if (request.method() == http::verb::get && target.ends_with("/pkranges")) {
      response.body() =
          R"({"_rid":"r","PartitionKeyRanges":[{"id":"0","minInclusive":"","maxExclusive":"FF","parents":[]}],"_count":1})";
    } else if (request.method() == http::verb::get && target.find("/docs/note-") != target.npos) {
      const std::uint64_t index = number_after(target, "/docs/note-");
      append_note(index, response.body());
      response.set(http::field::etag, "\"" + std::to_string(requests_) + "-get\"");
    } else {
      response.result(http::status::not_found);
      response.body() = R"({"code":"NotFound","message":"not served by the null backend"})";
    }
    response.prepare_payload();
    return response;
  }

 private:
  void query(const Request& request, Response& response) {
    const std::uint64_t first = number_after(request["x-ms-continuation"], "\"next\":");
    const std::uint64_t page =
        std::max<std::uint64_t>(1, number_after(request["x-ms-max-item-count"], ""));
    const std::uint64_t end = std::min(options_.documents, first + page);
    std::string& body = response.body();
    body.reserve((end - first) * 1100 + 64);
    body = R"({"_rid":"r","Documents":[)";
    for (std::uint64_t i = first; i < end; ++i) {
      if (i > first) body += ',';
      append_note(i, body);
    }
    body += R"(],"_count":)" + std::to_string(end - first) + "}";
    if (end < options_.documents) {
      response.set("x-ms-continuation", R"({"next":)" + std::to_string(end) + "}");
    }
    response.set("x-ms-request-charge",
                 std::to_string(2.5 + 0.1 * static_cast<double>(end - first)));
  }

  void batch(const Request& request, Response& response) {
    // Our own synthetic notes never contain the marker, so counting it counts operations.
    std::size_t operations = 0;
    for (auto at = request.body().find("\"operationType\""); at != std::string::npos;
         at = request.body().find("\"operationType\"", at + 1)) {
      ++operations;
    }
    std::string& body = response.body();
    body = "[";
    for (std::size_t i = 0; i < operations; ++i) {
      if (i > 0) body += ',';
      body += R"({"statusCode":200,"requestCharge":10.29,"eTag":"\")" + std::to_string(requests_) +
              "-" + std::to_string(i) + R"(\""})";
    }
    body += ']';
    response.set("x-ms-request-charge", std::to_string(10.29 * static_cast<double>(operations)));
  }

  const Options& options_;
  std::uint64_t requests_ = 0;
};

net::awaitable<void> serve_connection(ssl::stream<beast::tcp_stream> stream,
                                      Backend& backend,
                                      const Options& options) {
  beast::error_code error;
  co_await stream.async_handshake(ssl::stream_base::server,
                                  net::redirect_error(net::use_awaitable, error));
  if (error) co_return;
  beast::flat_buffer buffer;
  net::steady_timer delay(co_await net::this_coro::executor);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64U << 20);
    co_await http::async_read(stream, buffer, parser,
                              net::redirect_error(net::use_awaitable, error));
    if (error) co_return;
    Response response = backend.answer(parser.get());
    if (options.latency_ms > 0) {
      delay.expires_after(std::chrono::milliseconds(options.latency_ms));
      co_await delay.async_wait(net::redirect_error(net::use_awaitable, error));
    }
    co_await http::async_write(stream, response, net::redirect_error(net::use_awaitable, error));
    if (error || !response.keep_alive()) co_return;
  }
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                 ssl::context& tls,
                                 Backend& backend,
                                 const Options& options) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(net::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    auto executor = socket.get_executor();
    net::co_spawn(
        executor,
        serve_connection(ssl::stream<beast::tcp_stream>(std::move(socket), tls), backend, options),
        net::detached);
  }
}

int main_of(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--cert")
      options.cert = value;
    else if (name == "--key")
      options.key = value;
    else if (name == "--documents")
      options.documents = std::stoull(value);
    else if (name == "--port")
      options.port = static_cast<unsigned short>(std::stoul(value));
    else if (name == "--latency-ms")
      options.latency_ms = std::stoi(value);
    else {
      std::cerr << "null_backend: unknown option " << name << "\n";
      return 2;
    }
  }
  if (options.cert.empty() || options.key.empty()) {
    std::cerr << "usage: null_backend --cert FILE --key FILE --documents N [--port P] "
                 "[--latency-ms M]\n";
    return 2;
  }
  net::io_context io(1);
  ssl::context tls(ssl::context::tls_server);
  tls.use_certificate_chain_file(options.cert);
  tls.use_private_key_file(options.key, ssl::context::pem);
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), options.port));
  Backend backend(options);
  std::cout << "listening on port " << acceptor.local_endpoint().port() << std::endl;
  net::co_spawn(io, accept_loop(acceptor, tls, backend, options), [](std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
  });
  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code, int) { io.stop(); });
  io.run();
  return 0;
}

}  // namespace
}  // namespace backfilld::bench

int main(int argc, char** argv) { return backfilld::bench::main_of(argc, argv); }
