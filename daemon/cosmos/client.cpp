#include "daemon/cosmos/client.hpp"

#include <charconv>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/batch.hpp"
#include "daemon/cosmos/client_call.hpp"

namespace backfilld::cosmos {
namespace {

constexpr std::size_t kMaxErrorMessage = 512;

/// "/dbs/a/colls/b/docs/x%20y" from the raw segments of `link`.
std::string request_target(std::string_view link) {
  std::string target;
  target.reserve(link.size() + 8);
  std::size_t start = 0;
  while (start <= link.size()) {
    const std::size_t slash = link.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? link.size() : slash;
    target.push_back('/');
    target += url_encode(link.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return target;
}

double header_double(const HttpResponse& response, std::string_view name) {
  const auto it = response.find(name);
  if (it == response.end()) return 0;
  const auto text = it->value();
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string header_string(const HttpResponse& response, std::string_view name) {
  const auto it = response.find(name);
  return it == response.end() ? std::string() : std::string(it->value());
}

Error error_of(const HttpResponse& response) {
  Error error;
  error.status = static_cast<int>(response.result_int());
  error.substatus = static_cast<int>(header_double(response, "x-ms-substatus"));
  error.activity_id = header_string(response, "x-ms-activity-id");
  error.request_charge = header_double(response, "x-ms-request-charge");
  auto body = common::parse_json(response.body());
  if (body.ok()) {
    const auto code = common::string_member(*body, "code");
    const auto message = common::string_member(*body, "message");
    if (code) error.message = std::string(*code);
    if (message) error.message += (error.message.empty() ? "" : ": ") + std::string(*message);
  }
  if (error.message.empty()) error.message = std::string(response.reason());
  if (error.message.size() > kMaxErrorMessage) error.message.resize(kMaxErrorMessage);
  return error;
}

std::string query_body(const QueryRequest& request) {
  std::string body = R"({"query":)";
  rapidjson::Value query(rapidjson::StringRef(request.query.data(), request.query.size()));
  common::append_json(query, body);
  body += R"(,"parameters":)";
  body += request.parameters_json.empty() ? "[]" : request.parameters_json;
  body += '}';
  return body;
}

/// The new etag: the ETag header, else the body's _etag (the local server may send only that).
std::string etag_of(const std::string& header_etag, const std::string& body) {
  if (!header_etag.empty()) return header_etag;
  auto parsed = common::parse_json(body);
  if (!parsed.ok()) return {};
  return std::string(common::string_member(*parsed, "_etag").value_or(""));
}

}  // namespace

common::Result<std::unique_ptr<Client>> Client::create(net::any_io_executor executor,
                                                       ClientOptions options) {
  auto endpoint = parse_endpoint(options.endpoint);
  if (!endpoint) return common::Unexpected{endpoint.error()};
  auto key = MasterKey::from_base64(options.master_key);
  if (!key) return common::Unexpected{key.error()};
  auto tls = make_tls_context(options.tls);
  if (!tls) return common::Unexpected{tls.error()};
  auto pool = std::make_shared<ConnectionPool>(executor, std::move(tls.value()),
                                               std::move(endpoint.value()), options.pool);
  return std::unique_ptr<Client>(new Client(std::move(executor), std::move(options),
                                            std::move(key.value()), std::move(pool),
                                            std::make_shared<RequestObserver>(), nullptr, nullptr));
}

Client::Client(net::any_io_executor executor,
               ClientOptions options,
               MasterKey key,
               std::shared_ptr<ConnectionPool> pool,
               std::shared_ptr<RequestObserver> observer,
               RetryScope* scope,
               RequestGovernor* governor)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      key_(std::move(key)),
      pool_(std::move(pool)),
      observer_(std::move(observer)),
      scope_(scope),
      governor_(governor),
      jitter_(std::random_device{}()) {}

std::unique_ptr<DocumentStore> Client::with_retry_scope(RetryScope& scope,
                                                        RequestGovernor* governor) {
  return std::unique_ptr<Client>(
      new Client(executor_, options_, key_, pool_, observer_, &scope, governor));
}

HttpRequest Client::build_request(Call& call) const {
  HttpRequest request(call.verb, request_target(call.path_link), 11);
  request.set(http::field::host, pool_->endpoint().authority());
  request.set(http::field::user_agent, options_.user_agent);
  request.set(http::field::accept, "application/json");
  request.set("x-ms-version", options_.api_version);
  for (const auto& [name, value] : call.headers) request.set(name, value);
  if (!call.body.empty() || call.verb == http::verb::post || call.verb == http::verb::put) {
    if (request.find(http::field::content_type) == request.end()) {
      request.set(http::field::content_type, "application/json");
    }
    request.body() = std::move(call.body);
    request.prepare_payload();
  }
  return request;
}

void Client::sign(const Call& call, HttpRequest& request) const {
  const std::string date = rfc1123_date(options_.clock->system_now());
  request.set("x-ms-date", date);
  request.set(
      http::field::authorization,
      key_.authorization(http::to_string(call.verb), call.resource_type, call.resource_link, date));
}

net::awaitable<Result<Client::Reply>> Client::execute(Call call) {
  std::chrono::milliseconds waited{0};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  HttpRequest request = build_request(call);  // the body is moved in once, not copied per attempt
  for (int attempt = 1;; ++attempt) {
    // Every attempt, retries included, is admitted by the budget and pays what it cost.
    double reserved = 0;
    if (governor_ != nullptr) {
      auto admitted = co_await governor_->admit(call.operation);
      if (!admitted) {
        co_return common::Unexpected{Error{0,
                                           0,
                                           "not sent: the request-unit budget's wait ended (the "
                                           "job is pausing or stopping)",
                                           {},
                                           0}};
      }
      reserved = *admitted;
    }
    sign(call, request);
    const auto started = options_.clock->monotonic_now();
    auto sent = co_await pool_->send(request, options_.request_timeout);

    Error error;
    std::optional<std::chrono::milliseconds> retry_after;
    if (sent.ok()) {
      HttpResponse& response = sent.value();
      const int status = static_cast<int>(response.result_int());
      if (status < 300) {
        Reply reply;
        reply.status = status;
        reply.request_charge = header_double(response, "x-ms-request-charge");
        reply.etag = header_string(response, "etag");
        reply.continuation = header_string(response, "x-ms-continuation");
        reply.body = std::move(response.body());
        if (*observer_) {
          (*observer_)(RequestEvent{call.operation, status, 0, reply.request_charge,
                                    options_.clock->monotonic_now() - started, std::nullopt});
        }
        if (scope_ != nullptr) scope_->succeeded();
        if (governor_ != nullptr) {
          governor_->settle(reserved, {call.operation, status, reply.request_charge, {}});
        }
        co_return reply;
      }
      error = error_of(response);
      if (response.find("x-ms-retry-after-ms") != response.end()) {
        retry_after = std::chrono::milliseconds(
            static_cast<std::int64_t>(header_double(response, "x-ms-retry-after-ms")));
        error.retry_after = *retry_after;
      }
    } else {
      error.message = sent.error().message;
    }
    if (governor_ != nullptr) {
      governor_->settle(reserved,
                        {call.operation, error.status, error.request_charge, retry_after});
    }

    // A scoped request (a job's) retries for as long as its scope lets it: a busy day's
    // throttling slows a job down, it never turns into failed documents. An unscoped one gives
    // up after max_attempts (0: no limit) or max_total_wait.
    std::optional<RetryCause> cause = retry_cause(error.status);
    // A request pinned to a range that split or moved would meet the same 410 forever: its
    // caller re-reads the ranges and routes again.
    if (error.is_range_gone() && call.pinned_to_range()) cause.reset();
    std::chrono::milliseconds delay{0};
    if (cause) {
      delay = backoff_delay(*cause, attempt, retry_after, options_.retry, unit(jitter_));
      const bool exhausted =
          scope_ == nullptr &&
          ((options_.retry.max_attempts > 0 && attempt >= options_.retry.max_attempts) ||
           waited + delay > options_.retry.max_total_wait);
      if (exhausted || (scope_ != nullptr && scope_->given_up())) cause.reset();
    }
    if (*observer_) {
      (*observer_)(RequestEvent{call.operation, error.status, error.substatus, error.request_charge,
                                options_.clock->monotonic_now() - started, cause});
    }
    if (!cause) {
      if (attempt > 1) error.message += " (after " + std::to_string(attempt) + " attempts)";
      co_return common::Unexpected{std::move(error)};
    }
    waited += delay;
    if (scope_ != nullptr) {
      if (!co_await scope_->wait(delay, *cause, error.status, call.operation)) {
        error.message += " (retrying ended after " + std::to_string(attempt) +
                         " attempts: the job is pausing or stopping)";
        co_return common::Unexpected{std::move(error)};
      }
      continue;
    }
    co_await options_.clock->sleep_for(executor_, delay);
  }
}

net::awaitable<Result<QueryPage>> Client::query_documents(const QueryRequest& request) {
  Call call{.operation = "query",
            .verb = http::verb::post,
            .resource_type = "docs",
            .resource_link = request.container.link(),
            .path_link = request.container.link() + "/docs",
            .headers = {{"Content-Type", "application/query+json"},
                        {"x-ms-documentdb-isquery", "True"},
                        {"x-ms-max-item-count", std::to_string(request.max_item_count)}},
            .body = query_body(request)};
  if (!request.continuation.empty())
    call.headers.emplace_back("x-ms-continuation", request.continuation);
  if (request.partition_key) {
    call.headers.emplace_back("x-ms-documentdb-partitionkey", request.partition_key->header);
  } else {
    call.headers.emplace_back("x-ms-documentdb-query-enablecrosspartition", "True");
  }
  if (request.partition_key_range_id) {
    call.headers.emplace_back("x-ms-documentdb-partitionkeyrangeid",
                              *request.partition_key_range_id);
    if (!request.start_epk.empty() || !request.end_epk.empty()) {
      call.headers.emplace_back("x-ms-start-epk", request.start_epk);
      call.headers.emplace_back("x-ms-end-epk", request.end_epk);
    }
  }
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};

  QueryPage page;
  page.continuation = std::move(reply->continuation);
  page.request_charge = reply->request_charge;
  auto body = common::parse_json(reply->body);
  if (body) page.body = std::move(*body);
  if (!body || !page.body.IsObject() || !page.body.HasMember("Documents") ||
      !page.body["Documents"].IsArray()) {
    co_return common::Unexpected{Error{
        reply->status, 0, "query response has no Documents array", {}, reply->request_charge}};
  }
  co_return page;
}

net::awaitable<Result<DocumentRead>> Client::read_document(const ContainerRef& container,
                                                           std::string_view id,
                                                           const PartitionKey& key) {
  const std::string link = container.link() + "/docs/" + std::string(id);
  Call call{.operation = "read",
            .verb = http::verb::get,
            .resource_type = "docs",
            .resource_link = link,
            .path_link = link,
            .headers = {{"x-ms-documentdb-partitionkey", key.header}}};
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  DocumentRead read;
  read.request_charge = reply->request_charge;
  auto document = common::parse_json(reply->body);
  if (document) read.document = std::move(*document);
  if (!document || !read.document.IsObject()) {
    co_return common::Unexpected{
        Error{reply->status, 0, "document body is not a JSON object", {}, reply->request_charge}};
  }
  read.etag = reply->etag.empty()
                  ? std::string(common::string_member(read.document, "_etag").value_or(""))
                  : std::move(reply->etag);
  co_return read;
}

net::awaitable<Result<WriteAck>> Client::replace_document(const ContainerRef& container,
                                                          std::string_view id,
                                                          const PartitionKey& key,
                                                          std::string body,
                                                          std::string_view if_match) {
  const std::string link = container.link() + "/docs/" + std::string(id);
  Call call{.operation = "replace",
            .verb = http::verb::put,
            .resource_type = "docs",
            .resource_link = link,
            .path_link = link,
            .headers = {{"x-ms-documentdb-partitionkey", key.header}, {"Prefer", "return=minimal"}},
            .body = std::move(body)};
  if (!if_match.empty()) call.headers.emplace_back("If-Match", std::string(if_match));
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  co_return WriteAck{reply->status, etag_of(reply->etag, reply->body), reply->request_charge};
}

net::awaitable<Result<BatchResponse>> Client::execute_batch(const BatchRequest& request) {
  const bool atomic = request.kind == BatchKind::kAtomic;
  Call call{.operation = atomic ? "batch" : "bulk",
            .verb = http::verb::post,
            .resource_type = "docs",
            .resource_link = request.container.link(),
            .path_link = request.container.link() + "/docs",
            .headers = {{"x-ms-cosmos-is-batch-request", "True"},
                        {"x-ms-cosmos-batch-atomic", atomic ? "True" : "False"},
                        {"x-ms-cosmos-batch-continue-on-error", atomic ? "False" : "True"}},
            .body = batch_body(request)};
  if (atomic) {
    call.headers.emplace_back("x-ms-documentdb-partitionkey", request.key.header);
  } else {
    call.headers.emplace_back("x-ms-documentdb-partitionkeyrangeid",
                              request.partition_key_range_id);
  }
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  co_return parse_batch_response(reply->body, request.operations.size(), reply->request_charge);
}

net::awaitable<Result<WriteAck>> Client::create_document(const ContainerRef& container,
                                                         const PartitionKey& key,
                                                         std::string body) {
  Call call{.operation = "create",
            .verb = http::verb::post,
            .resource_type = "docs",
            .resource_link = container.link(),
            .path_link = container.link() + "/docs",
            .headers = {{"x-ms-documentdb-partitionkey", key.header}},
            .body = std::move(body)};
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  co_return WriteAck{reply->status, etag_of(reply->etag, reply->body), reply->request_charge};
}

net::awaitable<Result<WriteAck>> Client::upsert_document(const ContainerRef& container,
                                                         const PartitionKey& key,
                                                         std::string body) {
  Call call{.operation = "upsert",
            .verb = http::verb::post,
            .resource_type = "docs",
            .resource_link = container.link(),
            .path_link = container.link() + "/docs",
            .headers = {{"x-ms-documentdb-partitionkey", key.header},
                        {"x-ms-documentdb-is-upsert", "True"}},
            .body = std::move(body)};
  auto reply = co_await execute(std::move(call));
  if (!reply) co_return common::Unexpected{std::move(reply.error())};
  co_return WriteAck{reply->status, etag_of(reply->etag, reply->body), reply->request_charge};
}

}  // namespace backfilld::cosmos
