#include "api/handlers.hpp"

#include <spdlog/spdlog.h>

#include "api/errors.hpp"
#include "api/message.hpp"
#include "daemon/common/json.hpp"

namespace backfilld::api {

Handler sync(SyncHandler handler) {
  return [handler = std::move(handler)](const Request& request,
                                        const PathParams& params) -> net::awaitable<Response> {
    co_return handler(request, params);
  };
}

Handler on_jobs_thread(const JobsApiOptions& options, jobs::JobManager& manager, Handler handler) {
  if (!options.jobs_executor) return handler;
  return [executor = *options.jobs_executor, board = options.board, &manager,
          handler = std::move(handler)](const Request& request,
                                        const PathParams& params) -> net::awaitable<Response> {
    auto task = [&]() -> net::awaitable<Response> {
      Response response = co_await handler(request, params);
      if (board != nullptr && request.message.method() != http::verb::get) {
        jobs::publish_statuses(manager, *board);
      }
      co_return response;
    };
    auto on_jobs = net::co_spawn(executor, std::move(task), net::use_awaitable);
    Response response = co_await std::move(on_jobs);
    co_return response;
  };
}

Response fail(std::string code, std::string message) {
  return error_response(common::Error{std::move(code), std::move(message)});
}

common::Result<void> only_known(const rapidjson::Value& body, std::set<std::string_view> allowed) {
  for (const auto& member : body.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (!allowed.contains(name)) {
      return common::fail("invalid_request", std::string(name) + ": unknown field");
    }
  }
  return {};
}

common::Result<std::string> optional_string(const rapidjson::Value& body, std::string_view name) {
  const rapidjson::Value* value = common::find_member(body, name);
  if (value == nullptr || value->IsNull()) return std::string();
  if (!value->IsString()) {
    return common::fail("invalid_request", std::string(name) + ": must be a string");
  }
  return std::string(value->GetString(), value->GetStringLength());
}

common::Result<rapidjson::Document> optional_body(const Request& request) {
  if (request.message.body().empty()) {
    rapidjson::Document empty(rapidjson::kObjectType);
    return empty;
  }
  auto body = parse_json_body(request);
  if (!body) return common::Unexpected{body.error()};
  if (!body->IsObject()) return common::fail("invalid_request", "body: must be a JSON object");
  return body;
}

std::string operator_of(const Request& request, const rapidjson::Value& body) {
  if (auto name = common::string_member(body, "operator"); name && !name->empty()) {
    return std::string(*name);
  }
  if (const auto it = request.message.find("X-Operator"); it != request.message.end()) {
    return std::string(it->value());
  }
  return "unknown";
}

void audit(const Request& request,
           std::string_view who,
           std::string_view action,
           std::string_view outcome) {
  spdlog::info("audit: operator={} caller={} action={} outcome={} request={}", who,
               to_string(request.caller), action, outcome, request.id);
}

common::Result<std::optional<double>> optional_number(const rapidjson::Value& body,
                                                      std::string_view name) {
  const rapidjson::Value* value = common::find_member(body, name);
  if (value == nullptr || value->IsNull()) return std::optional<double>();
  if (!value->IsNumber()) {
    return common::fail("invalid_request", std::string(name) + ": must be a number");
  }
  return std::optional<double>(value->GetDouble());
}

common::Result<std::optional<std::uint32_t>> optional_count(const rapidjson::Value& body,
                                                            std::string_view name) {
  const rapidjson::Value* value = common::find_member(body, name);
  if (value == nullptr || value->IsNull()) return std::optional<std::uint32_t>();
  if (!value->IsUint()) {
    return common::fail("invalid_request", std::string(name) + ": must be a positive integer");
  }
  return std::optional<std::uint32_t>(value->GetUint());
}

}  // namespace backfilld::api
