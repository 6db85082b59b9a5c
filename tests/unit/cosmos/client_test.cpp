// The Cosmos client against a scripted HTTPS server: what it sends, and how it retries, waits,
// gives up and reports what the service answered.
#include "daemon/cosmos/client.hpp"

#include <doctest/doctest.h>

#include <ctime>
#include <functional>
#include <iomanip>
#include <map>
#include <optional>
#include <sstream>

#include "daemon/common/json.hpp"
#include "tests/support/scripted_https_server.hpp"
#include "tests/support/simulated_clock.hpp"

namespace backfilld::cosmos {
namespace {

using namespace std::chrono_literals;
using testing::Action;
using testing::ReceivedRequest;
using testing::ScriptedHttpsServer;

constexpr std::string_view kMasterKey = "VGhpcyBpcyBhIHNhbXBsZSBzdHJpbmc=";
const ContainerRef kNotes{"shop", "notes"};
const PartitionKey kKey{R"(["ws-1"])"};
constexpr std::string_view kDocument = R"({"id":"n1","workspaceId":"ws-1","_etag":"e-1"})";

/// An observed attempt, copied out of the RequestEvent.
struct Attempt {
  std::string operation;
  int status = 0;
  int substatus = 0;
  double request_charge = 0;
  std::optional<RetryCause> retry;
};

ClientOptions options_for(const ScriptedHttpsServer& server) {
  ClientOptions options;
  options.endpoint = server.endpoint();
  options.master_key = std::string(kMasterKey);
  options.tls.ca_file = testing::fixture_ca_file();
  // A small base delay: a wait that is not the server's x-ms-retry-after-ms stays short.
  options.retry.base_delay = 1ms;
  options.request_timeout = 5s;
  return options;
}

std::unique_ptr<Client> make_client(net::io_context& io,
                                    ClientOptions options,
                                    std::vector<Attempt>& attempts) {
  auto client = Client::create(io.get_executor(), std::move(options));
  REQUIRE_MESSAGE(client.ok(), client.error().message);
  client.value()->set_observer([&attempts](const RequestEvent& event) {
    attempts.push_back(Attempt{std::string(event.operation), event.status, event.substatus,
                               event.request_charge, event.retry});
  });
  return std::move(client.value());
}

/// A Cosmos error answer with the headers the service sends.
Action cosmos_error(unsigned status, std::string code, std::string message) {
  return Action::respond(status, R"({"code":")" + code + R"(","message":")" + message + R"("})")
      .with_header("x-ms-substatus", "1002")
      .with_header("x-ms-activity-id", "act-" + std::to_string(status))
      .with_header("x-ms-request-charge", "1.5");
}

Action document_ok() {
  return Action::respond(200, std::string(kDocument))
      .with_header("etag", "\"e-1\"")
      .with_header("x-ms-request-charge", "1");
}

/// The document id a request was about: the last segment of its target.
std::string id_of(const ReceivedRequest& request) {
  return request.target.substr(request.target.rfind('/') + 1);
}

std::string header_or_empty(const ReceivedRequest& request, std::string_view name) {
  return request.header(name).value_or("");
}

/// Reads each id in turn: what each read returned, with the attempts the observer saw for it.
net::awaitable<std::vector<std::pair<Result<DocumentRead>, std::vector<Attempt>>>> read_each(
    Client& client, std::vector<std::string> ids, std::vector<Attempt>& attempts) {
  std::vector<std::pair<Result<DocumentRead>, std::vector<Attempt>>> outcomes;
  for (const std::string& id : ids) {
    attempts.clear();
    auto read = co_await client.read_document(kNotes, id, kKey);
    outcomes.emplace_back(std::move(read), attempts);
  }
  co_return outcomes;
}

/// Replaces each id in turn: what each replace returned, with the attempts the observer saw.
net::awaitable<std::vector<std::pair<Result<WriteAck>, std::vector<Attempt>>>> replace_each(
    Client& client, std::vector<std::string> ids, std::vector<Attempt>& attempts) {
  std::vector<std::pair<Result<WriteAck>, std::vector<Attempt>>> outcomes;
  for (const std::string& id : ids) {
    attempts.clear();
    auto ack =
        co_await client.replace_document(kNotes, id, kKey, std::string(kDocument), "\"e-1\"");
    outcomes.emplace_back(std::move(ack), attempts);
  }
  co_return outcomes;
}

/// True when `date` is an RFC 1123 date as x-ms-date wants it ("Thu, 27 Apr 2017 00:51:12 GMT").
bool is_rfc1123_date(const std::string& date) {
  std::tm parts{};
  std::istringstream in(date);
  in >> std::get_time(&parts, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return false;
  // Formatting the parsed time again must give the same text (two-digit day, English names).
  return rfc1123_date(std::chrono::system_clock::from_time_t(timegm(&parts))) == date;
}

}  // namespace

TEST_CASE("a replace is signed and carries date, version, partition key and If-Match") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) {
    return Action::respond(200, "")
        .with_header("etag", "\"e-2\"")
        .with_header("x-ms-request-charge", "10.48");
  });
  std::vector<Attempt> attempts;
  auto client = make_client(io, options_for(server), attempts);
  const std::string id = "note 1 \xC3\xBC+%";

  const auto ack =
      server.run(client->replace_document(kNotes, id, kKey, std::string(kDocument), "\"e-1\""));

  REQUIRE_MESSAGE(ack.ok(), describe(ack.error()));
  CHECK(ack->status == 200);
  CHECK(ack->etag == "\"e-2\"");
  CHECK(ack->request_charge == doctest::Approx(10.48));
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].operation == "replace");
  CHECK(attempts[0].request_charge == doctest::Approx(10.48));

  REQUIRE(server.requests().size() == 1);
  const ReceivedRequest& request = server.requests()[0];
  CHECK(request.method == "PUT");
  CHECK(request.target == "/dbs/shop/colls/notes/docs/note%201%20%C3%BC%2B%25");
  CHECK(header_or_empty(request, "Host") == "127.0.0.1:" + std::to_string(server.port()));
  const std::string date = header_or_empty(request, "x-ms-date");
  CHECK_MESSAGE(is_rfc1123_date(date), date);
  CHECK(header_or_empty(request, "x-ms-version") == "2018-12-31");
  const std::string authorization = header_or_empty(request, "Authorization");
  CHECK(authorization.starts_with("type%3Dmaster%26ver%3D1.0%26sig%3D"));
  // Signed over the raw id, with the date the request carries.
  auto key = MasterKey::from_base64(kMasterKey);
  REQUIRE(key.ok());
  CHECK(authorization ==
        key->authorization("PUT", "docs", "dbs/shop/colls/notes/docs/" + id, date));
  CHECK(header_or_empty(request, "x-ms-documentdb-partitionkey") == R"(["ws-1"])");
  CHECK(header_or_empty(request, "If-Match") == "\"e-1\"");
  CHECK(header_or_empty(request, "Content-Type") == "application/json");
  CHECK(request.body == kDocument);
}

TEST_CASE("a query carries the query headers, and the continuation when resuming") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](const ReceivedRequest&, std::size_t index, std::size_t) {
    auto page = Action::respond(200, R"({"Documents":[{"id":"n1"}],"_count":1})")
                    .with_header("x-ms-request-charge", "2.9");
    return index == 0 ? std::move(page).with_header("x-ms-continuation", R"({"token":"p2"})")
                      : std::move(page);
  });
  std::vector<Attempt> attempts;
  auto client = make_client(io, options_for(server), attempts);

  QueryRequest first;
  first.container = kNotes;
  first.query = "SELECT * FROM c WHERE c.productId = @productId";
  first.parameters_json = R"([{"name":"@productId","value":"notelett"}])";
  first.max_item_count = 50;

  const auto pages =
      server.run([&]() -> net::awaitable<std::pair<Result<QueryPage>, Result<QueryPage>>> {
        auto page = co_await client->query_documents(first);
        QueryRequest next = first;
        if (page.ok()) next.continuation = page->continuation;
        next.partition_key = kKey;
        auto next_page = co_await client->query_documents(next);
        co_return std::make_pair(std::move(page), std::move(next_page));
      }());
  const auto& first_page = pages.first;
  const auto& second_page = pages.second;
  REQUIRE_MESSAGE(first_page.ok(), describe(first_page.error()));
  CHECK(first_page->continuation == R"({"token":"p2"})");
  CHECK(first_page->request_charge == doctest::Approx(2.9));
  CHECK(first_page->documents().Size() == 1);
  REQUIRE_MESSAGE(second_page.ok(), describe(second_page.error()));
  CHECK(second_page->continuation.empty());

  REQUIRE(server.requests().size() == 2);
  const ReceivedRequest& scan = server.requests()[0];
  CHECK(scan.method == "POST");
  CHECK(scan.target == "/dbs/shop/colls/notes/docs");
  CHECK(header_or_empty(scan, "Content-Type") == "application/query+json");
  CHECK(header_or_empty(scan, "x-ms-documentdb-isquery") == "True");
  CHECK(header_or_empty(scan, "x-ms-max-item-count") == "50");
  CHECK(header_or_empty(scan, "x-ms-documentdb-query-enablecrosspartition") == "True");
  CHECK_FALSE(scan.header("x-ms-continuation").has_value());
  CHECK_FALSE(scan.header("x-ms-documentdb-partitionkey").has_value());
  auto key = MasterKey::from_base64(kMasterKey);
  REQUIRE(key.ok());
  CHECK(header_or_empty(scan, "Authorization") ==
        key->authorization("post", "docs", "dbs/shop/colls/notes",
                           header_or_empty(scan, "x-ms-date")));
  auto body = common::parse_json(scan.body);
  REQUIRE(body.ok());
  CHECK(common::string_member(*body, "query").value_or("") == first.query);
  const rapidjson::Value* parameters = common::find_member(*body, "parameters");
  REQUIRE(parameters != nullptr);
  REQUIRE(parameters->IsArray());
  CHECK(parameters->Size() == 1);

  const ReceivedRequest& resumed = server.requests()[1];
  CHECK(header_or_empty(resumed, "x-ms-continuation") == R"({"token":"p2"})");
  CHECK(header_or_empty(resumed, "x-ms-documentdb-partitionkey") == R"(["ws-1"])");
  CHECK_FALSE(resumed.header("x-ms-documentdb-query-enablecrosspartition").has_value());
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0].operation == "query");
  CHECK(attempts[0].request_charge == doctest::Approx(2.9));
}

TEST_CASE("429 is retried after the x-ms-retry-after-ms the server asked for, on the clock") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](const ReceivedRequest&, std::size_t index, std::size_t) {
    if (index < 5) {
      return Action::respond(429, R"({"code":"TooManyRequests","message":"rate too large"})")
          .with_header("x-ms-retry-after-ms", "4000")
          .with_header("x-ms-substatus", "3200")
          .with_header("x-ms-request-charge", "0.25");
    }
    return document_ok();
  });
  std::vector<Attempt> attempts;
  testing::SimulatedClock clock;
  clock.auto_advance = true;  // the io_context also serves real sockets
  ClientOptions options = options_for(server);
  options.clock = &clock;
  auto client = make_client(io, options, attempts);

  const auto simulated_start = clock.monotonic_now();
  const auto real_start = std::chrono::steady_clock::now();
  const auto read = server.run(client->read_document(kNotes, "n1", kKey));

  REQUIRE_MESSAGE(read.ok(), describe(read.error()));
  CHECK(read->etag == "\"e-1\"");
  REQUIRE(attempts.size() == 6);
  for (int retried = 0; retried < 5; ++retried) {
    CHECK(attempts[retried].status == 429);
    CHECK(attempts[retried].substatus == 3200);
    CHECK(attempts[retried].request_charge == doctest::Approx(0.25));
    CHECK(attempts[retried].retry == RetryCause::kThrottled);
  }
  CHECK(attempts[5].status == 200);
  CHECK_FALSE(attempts[5].retry.has_value());
  // The base delay is 1 ms: only honouring the header makes the five waits 20 s, simulated.
  CHECK(clock.monotonic_now() - simulated_start == 20s);
  CHECK(std::chrono::steady_clock::now() - real_start < 3s);
  // Requests are dated by the same clock.
  const auto& requests = server.requests();
  REQUIRE(requests.size() == 6);
  CHECK(header_or_empty(requests[0], "x-ms-date") == "Sun, 29 Nov 2026 12:00:00 GMT");
  CHECK(header_or_empty(requests[5], "x-ms-date") == "Sun, 29 Nov 2026 12:00:20 GMT");
}

TEST_CASE("503, 449, 408 and 410 are retried with their cause") {
  net::io_context io;
  const std::map<std::string, unsigned> first_status = {
      {"s503", 503}, {"s449", 449}, {"s408", 408}, {"s410", 410}};
  std::map<std::string, int> seen;
  ScriptedHttpsServer server(io, [&](const ReceivedRequest& request, std::size_t, std::size_t) {
    const std::string id = id_of(request);
    if (seen[id]++ == 0) return cosmos_error(first_status.at(id), "Transient", "try again");
    return document_ok();
  });
  std::vector<Attempt> attempts;
  auto client = make_client(io, options_for(server), attempts);
  const std::vector<std::pair<std::string, RetryCause>> cases = {
      {"s503", RetryCause::kUnavailable},
      {"s449", RetryCause::kRetryWith},
      {"s408", RetryCause::kRequestTimeout},
      {"s410", RetryCause::kGone}};

  std::vector<std::string> ids;
  for (const auto& [id, cause] : cases) ids.push_back(id);
  const auto outcomes = server.run(read_each(*client, ids, attempts));

  REQUIRE(outcomes.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [id_, cause_] = cases[i];
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& id = id_;
    const auto& cause = cause_;
    const auto& [read_, read_attempts_] = outcomes[i];
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& read = read_;
    const auto& read_attempts = read_attempts_;
    CAPTURE(id);
    CHECK_MESSAGE(read.ok(), (read.ok() ? "" : describe(read.error())));
    REQUIRE(read_attempts.size() == 2);
    CHECK(read_attempts[0].status == static_cast<int>(first_status.at(id)));
    CHECK(read_attempts[0].retry == cause);
    CHECK(read_attempts[1].status == 200);
  }
  CHECK(server.requests().size() == 8);
}

TEST_CASE("412, 404, 409, 400 and 401 are final and returned with what the service said") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](const ReceivedRequest& request, std::size_t, std::size_t) {
    const unsigned status = static_cast<unsigned>(std::stoi(id_of(request).substr(1)));
    return cosmos_error(status, "Final", "status " + std::to_string(status));
  });
  std::vector<Attempt> attempts;
  auto client = make_client(io, options_for(server), attempts);

  const std::vector<int> statuses = {412, 404, 409, 400, 401};
  std::vector<std::string> ids;
  // Not `"s" + std::to_string(...)`: g++ 12's -Wrestrict false positive at -O3 (GCC PR 105329).
  for (const int status : statuses) ids.push_back(std::string("s").append(std::to_string(status)));
  const auto outcomes = server.run(replace_each(*client, ids, attempts));

  REQUIRE(outcomes.size() == statuses.size());
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const int status = statuses[i];
    const auto& [ack, replace_attempts] = outcomes[i];
    CAPTURE(status);
    REQUIRE_FALSE(ack.ok());
    const Error& error = ack.error();
    CHECK(error.status == status);
    CHECK(error.substatus == 1002);
    CHECK(error.activity_id == "act-" + std::to_string(status));
    CHECK(error.request_charge == doctest::Approx(1.5));
    CHECK(error.message == "Final: status " + std::to_string(status));
    REQUIRE(replace_attempts.size() == 1);
    CHECK_FALSE(replace_attempts[0].retry.has_value());
    CHECK(replace_attempts[0].request_charge == doctest::Approx(1.5));
  }
  CHECK(server.requests().size() == 5);
}

TEST_CASE("retries stop at max_attempts with the last error") {
  net::io_context io;
  ScriptedHttpsServer server(
      io, [](auto&&...) { return cosmos_error(503, "ServiceUnavailable", "busy"); });
  std::vector<Attempt> attempts;
  auto options = options_for(server);
  options.retry.max_attempts = 3;
  auto client = make_client(io, options, attempts);

  const auto read = server.run(client->read_document(kNotes, "n1", kKey));

  REQUIRE_FALSE(read.ok());
  CHECK(read.error().status == 503);
  CHECK(read.error().message.find("(after 3 attempts)") != std::string::npos);
  CHECK(server.requests().size() == 3);
  REQUIRE(attempts.size() == 3);
  CHECK(attempts[0].retry == RetryCause::kUnavailable);
  CHECK(attempts[1].retry == RetryCause::kUnavailable);
  CHECK_FALSE(attempts[2].retry.has_value());
}

TEST_CASE("retries stop before the total wait would pass max_total_wait") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) {
    return cosmos_error(429, "TooManyRequests", "rate too large")
        .with_header("x-ms-retry-after-ms", "100");
  });
  std::vector<Attempt> attempts;
  auto options = options_for(server);
  options.retry.max_total_wait = 250ms;
  auto client = make_client(io, options, attempts);

  const auto started = std::chrono::steady_clock::now();
  const auto read = server.run(client->read_document(kNotes, "n1", kKey));
  const auto elapsed = std::chrono::steady_clock::now() - started;

  // Waits of 100 + 100 ms fit in 250 ms; a third would not, so the third answer is final.
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().status == 429);
  CHECK(read.error().message.find("(after 3 attempts)") != std::string::npos);
  CHECK(server.requests().size() == 3);
  REQUIRE(attempts.size() == 3);
  CHECK_FALSE(attempts[2].retry.has_value());
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < 5s);
}

TEST_CASE("a dropped connection or a truncated body is retried as a transport failure") {
  Action failure;
  SUBCASE("connection dropped before the response") { failure = Action::drop(); }
  SUBCASE("body shorter than its Content-Length") {
    failure = Action::truncated_body(200, std::string(kDocument), 12);
  }
  net::io_context io;
  ScriptedHttpsServer server(io, [&](const ReceivedRequest&, std::size_t index, std::size_t) {
    return index == 0 ? failure : document_ok();
  });
  std::vector<Attempt> attempts;
  auto client = make_client(io, options_for(server), attempts);

  const auto read = server.run(client->read_document(kNotes, "n1", kKey));

  REQUIRE_MESSAGE(read.ok(), describe(read.error()));
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0].status == 0);
  CHECK(attempts[0].retry == RetryCause::kTransport);
  CHECK(attempts[1].status == 200);
  CHECK(server.requests().size() == 2);
  CHECK(server.connections_accepted() == 2);
}

TEST_CASE("a server that never answers gives a timeout after request_timeout") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](const ReceivedRequest&, std::size_t index, std::size_t) {
    return index == 0 ? Action::hang() : document_ok();
  });
  std::vector<Attempt> attempts;
  auto options = options_for(server);
  options.request_timeout = 200ms;

  SUBCASE("the last attempt times out: the error says so") {
    options.retry.max_attempts = 1;
    auto client = make_client(io, options, attempts);
    const auto started = std::chrono::steady_clock::now();
    const auto read = server.run(client->read_document(kNotes, "n1", kKey));
    const auto elapsed = std::chrono::steady_clock::now() - started;

    REQUIRE_FALSE(read.ok());
    CHECK(read.error().is_transport());
    CHECK(read.error().message == "no response within the request deadline");
    CHECK(elapsed >= 195ms);
    CHECK(elapsed < 5s);
  }
  SUBCASE("a timed-out attempt is retried") {
    auto client = make_client(io, options, attempts);
    const auto read = server.run(client->read_document(kNotes, "n1", kKey));

    REQUIRE_MESSAGE(read.ok(), describe(read.error()));
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[0].retry == RetryCause::kTransport);
  }
}

TEST_CASE("the client verifies the server certificate unless told not to") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) { return document_ok(); });
  std::vector<Attempt> attempts;
  auto options = options_for(server);
  options.retry.max_attempts = 1;

  SUBCASE("no CA for the server: the handshake fails") {
    options.tls.ca_file.clear();
    auto client = make_client(io, options, attempts);
    const auto read = server.run(client->read_document(kNotes, "n1", kKey));
    REQUIRE_FALSE(read.ok());
    CHECK(read.error().is_transport());
    CHECK(read.error().message.find("certificate verify failed") != std::string::npos);
    CHECK(server.requests().empty());
  }
  SUBCASE("insecure_skip_verify connects anyway") {
    options.tls.ca_file.clear();
    options.tls.insecure_skip_verify = true;
    auto client = make_client(io, options, attempts);
    const auto read = server.run(client->read_document(kNotes, "n1", kKey));
    CHECK_MESSAGE(read.ok(), (read.ok() ? "" : describe(read.error())));
  }
  SUBCASE("the CA trusts localhost, but the endpoint names another host") {
    options.endpoint = server.endpoint("127.1");
    auto client = make_client(io, options, attempts);
    const auto read = server.run(client->read_document(kNotes, "n1", kKey));
    REQUIRE_FALSE(read.ok());
    CHECK(read.error().message.find("certificate verify failed") != std::string::npos);
  }
}

TEST_CASE("a request throttled more than ten times in a row is retried until it succeeds") {
  // A 400 RU/s container on a busy day: an attempt count must not turn throttling into a failure.
  net::io_context io;
  int answered = 0;
  ScriptedHttpsServer server(io, [&](auto&&...) {
    if (++answered <= 15) {
      return cosmos_error(429, "TooManyRequests", "rate too large")
          .with_header("x-ms-retry-after-ms", "1");
    }
    return document_ok();
  });
  std::vector<Attempt> attempts;
  auto client = make_client(io, options_for(server), attempts);

  const auto read = server.run(client->read_document(kNotes, "n1", kKey));

  REQUIRE_MESSAGE(read.ok(), describe(read.error()));
  CHECK(server.requests().size() == 16);
  REQUIRE(attempts.size() == 16);
  for (std::size_t i = 0; i < 15; ++i) CHECK(attempts[i].retry == RetryCause::kThrottled);
}

TEST_CASE("a scoped request retries without limit and says since when it waits") {
  net::io_context io;
  int answered = 0;
  RetryScope scope;
  std::optional<RetryScope::Waiting> seen;
  ScriptedHttpsServer server(io, [&](auto&&...) {
    if (++answered <= 30) {
      if (answered == 30) seen = scope.waiting();
      return cosmos_error(answered % 2 == 0 ? 429 : 503, "Busy", "busy")
          .with_header("x-ms-retry-after-ms", "1");
    }
    return document_ok();
  });
  std::vector<Attempt> attempts;
  auto options = options_for(server);
  options.retry.max_total_wait = 1ms;  // the limits of unscoped requests do not apply
  options.retry.max_attempts = 2;
  auto client = make_client(io, options, attempts);
  auto scoped = client->with_retry_scope(scope, nullptr);
  REQUIRE(scoped);

  const auto read = server.run(scoped->read_document(kNotes, "n1", kKey));

  REQUIRE_MESSAGE(read.ok(), describe(read.error()));
  CHECK(server.requests().size() == 31);
  CHECK(attempts.size() == 31);  // the parent's observer sees the scoped client's attempts
  REQUIRE(seen.has_value());
  CHECK(seen->retries == 29);
  CHECK(seen->operation == "read");
  CHECK_FALSE(scope.waiting().has_value());  // a success ends the wait
}

TEST_CASE("a scope that gives up ends a retry wait in progress at once") {
  net::io_context io;
  ScriptedHttpsServer server(io, [](auto&&...) {
    return cosmos_error(429, "TooManyRequests", "rate too large")
        .with_header("x-ms-retry-after-ms", "600000");
  });
  std::vector<Attempt> attempts;
  auto options = options_for(server);
  options.retry.max_delay = 600s;  // the server's ten minutes are waited in full unless woken
  auto client = make_client(io, options, attempts);
  bool stopping = false;
  RetryScope scope([&] { return stopping; });
  auto scoped = client->with_retry_scope(scope, nullptr);

  // The job is paused once the first wait has begun (the watch ends if none ever does).
  net::steady_timer poll(io);
  int polls = 0;
  std::function<void()> watch = [&] {
    poll.expires_after(1ms);
    poll.async_wait([&](const boost::system::error_code& error) {
      if (error || ++polls > 20'000) return;
      if (scope.waits_in_progress() == 0) return watch();
      stopping = true;
      scope.wake();
    });
  };
  watch();
  const auto started = std::chrono::steady_clock::now();
  const auto read = server.run(scoped->read_document(kNotes, "n1", kKey));

  REQUIRE_FALSE(read.ok());
  CHECK(read.error().status == 429);
  CHECK(read.error().message.find("pausing or stopping") != std::string::npos);
  CHECK(server.requests().size() == 1);
  CHECK(std::chrono::steady_clock::now() - started < 60s);  // not the ten minutes
}

}  // namespace backfilld::cosmos
