// A Cosmos stand-in for the scale benchmark: it serves the REST subset the daemon uses, over
// HTTPS with keep-alive, for N synthetic notes of about 1 KB generated on the fly, and
// acknowledges every write without storing it, so the daemon's own limits show.
//
//   null_backend --cert FILE --key FILE --documents N [--port P] [--ranges K] [--latency-ms M]
//
// --ranges K: K partition key ranges laid over the hash V2 space as the ranges layer
// (deploy/local/ranges) and the service lay them (null_ranges.hpp); notes fall into ranges by the
// EPK of their `workspaceId` (ten consecutive notes share one). --latency-ms M: every answer
// waits M ms on a timer of its own connection, so requests on K connections overlap their waits.
//
// Prints "listening on port P" once ready. Serves:
//   POST .../docs (query)  pages of x-ms-max-item-count notes; pinned by
//                          x-ms-documentdb-partitionkeyrangeid: only that range's notes,
//                          continuation {"range":"ID","next":I} (400 from another range);
//                          unpinned: the whole container, continuation {"next":I}.
//                          SELECT VALUE COUNT(1): [the range's count], or [N] unpinned
//   POST .../docs (batch)  one {"statusCode":200,...} per operation, in order (atomic by
//                          partition key, or bulk pinned to a range)
//   PUT  .../docs/{id}     200 with etag, request charge and session token
//   GET  .../docs/{id}     the synthetic note with that id
//   GET  .../pkranges      the K ranges ("0".."K-1", parents [])
//   GET  dbs/D/colls/C     the container: partitionKey /workspaceId, kind Hash, version 2
// Every answer carries x-ms-request-charge. Writes are not kept: a second scan sees the same
// plaintext notes.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/asio.hpp"
#include "daemon/common/json_writer.hpp"
#include "tests/bench/null_ranges.hpp"

namespace backfilld::bench {
namespace {

struct Options {
  std::string cert;
  std::string key;
  std::uint64_t documents = 10'000;
  unsigned short port = 0;
  int ranges = 1;
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
      R"({"id":"note-%08llu","workspaceId":"%s","userId":"u-%llu","productId":"notelett",)"
      R"("title":"Note %llu","createdAt":"2026-01-01T00:00:00.000Z","body":")",
      static_cast<unsigned long long>(index), workspace_id(index / kNotesPerWorkspace).c_str(),
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

/// The string value after `key` up to the next quote: `"range":"` in {"range":"2","next":7}.
std::string_view string_after(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = text.substr(at + key.size());
  return rest.substr(0, rest.find('"'));
}

/// True for the daemon's estimate query, `SELECT VALUE COUNT(1) FROM c ...`.
bool is_count_query(std::string_view body) {
  return body.find("COUNT(1)") != std::string_view::npos ||
         body.find("count(1)") != std::string_view::npos;
}

/// A container read: `.../colls/C` with nothing after the container's id.
bool is_container_link(std::string_view target) {
  const auto at = target.rfind("/colls/");
  return at != std::string_view::npos &&
         target.find('/', at + sizeof("/colls/") - 1) == std::string_view::npos;
}

class Backend {
 public:
  explicit Backend(const Options& options)
      : options_(options), ranges_(options.documents, options.ranges) {}

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
      response.body() = ranges_.pkranges_body();
    } else if (request.method() == http::verb::get && is_container_link(target)) {
      response.body() = NullRanges::container_body(target.substr(target.rfind('/') + 1));
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
  static void bad_request(Response& response, const std::string& message) {
    response.result(http::status::bad_request);
    std::string& body = response.body();
    body = R"({"code":"BadRequest","message":)";
    common::append_json_string(message, body);
    body += '}';
  }

  void query(const Request& request, Response& response) {
    const std::string_view pinned_id = request["x-ms-documentdb-partitionkeyrangeid"];
    std::optional<std::size_t> range;
    if (!pinned_id.empty()) {
      range = ranges_.find(pinned_id);
      if (!range) return bad_request(response, "no partition key range " + std::string(pinned_id));
    }
    if (is_count_query(request.body())) {
      const std::uint64_t count = range ? ranges_.count_in(*range) : options_.documents;
      response.body() = R"({"_rid":"r","Documents":[)" + std::to_string(count) + R"(],"_count":1})";
      response.set("x-ms-request-charge", "2.9");
      return;
    }
    const std::string_view continuation = request["x-ms-continuation"];
    if (range && !continuation.empty() && string_after(continuation, R"("range":")") != pinned_id) {
      return bad_request(response, "the continuation was not minted for partition key range " +
                                       std::string(pinned_id));
    }
    const std::uint64_t page =
        std::max<std::uint64_t>(1, number_after(request["x-ms-max-item-count"], ""));
    // The next note to serve: in the pinned range, or any note when the query is not pinned.
    const auto next_from = [&](std::uint64_t index) {
      return range ? ranges_.next_in(*range, index) : std::min(index, options_.documents);
    };
    std::uint64_t next = next_from(number_after(continuation, "\"next\":"));
    std::uint64_t served = 0;
    std::string& body = response.body();
    body.reserve(std::min(page, options_.documents) * 1100 + 64);
    body = R"({"_rid":"r","Documents":[)";
    for (; served < page && next < options_.documents; ++served, next = next_from(next + 1)) {
      if (served > 0) body += ',';
      append_note(next, body);
    }
    body += R"(],"_count":)" + std::to_string(served) + "}";
    if (next < options_.documents) {
      const std::string at = R"("next":)" + std::to_string(next) + "}";
      response.set("x-ms-continuation",
                   range ? R"({"range":")" + std::string(pinned_id) + "\"," + at : "{" + at);
    }
    response.set("x-ms-request-charge", std::to_string(2.5 + 0.1 * static_cast<double>(served)));
  }

  void batch(const Request& request, Response& response) {
    const std::string_view pinned_id = request["x-ms-documentdb-partitionkeyrangeid"];
    if (!pinned_id.empty() && !ranges_.find(pinned_id)) {
      return bad_request(response, "no partition key range " + std::string(pinned_id));
    }
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
  NullRanges ranges_;
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
    // A timer of this connection: other connections are served while this one waits.
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
    else if (name == "--ranges")
      options.ranges = std::stoi(value);
    else if (name == "--latency-ms")
      options.latency_ms = std::stoi(value);
    else {
      std::cerr << "null_backend: unknown option " << name << "\n";
      return 2;
    }
  }
  if (options.cert.empty() || options.key.empty()) {
    std::cerr << "usage: null_backend --cert FILE --key FILE --documents N [--port P] "
                 "[--ranges K] [--latency-ms M]\n";
    return 2;
  }
  if (options.ranges < 1 || options.ranges > 65536) {
    std::cerr << "null_backend: --ranges must be 1 to 65536, not " << options.ranges << "\n";
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
