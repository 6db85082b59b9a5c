#include "api/throttle_api.hpp"

#include <cmath>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/message.hpp"
#include "daemon/common/json.hpp"
#include "daemon/jobs/governor_json.hpp"

namespace backfilld::api {
namespace {

constexpr std::size_t kMaxReason = 256;
constexpr double kMaxTtlSeconds = 7 * 24 * 3600;

Response throttle_state(const jobs::JobManager& manager, http::status status) {
  rapidjson::Document body(rapidjson::kObjectType);
  jobs::to_throttle_json(manager.governor(), body, body.GetAllocator());
  return json_response(status, body);
}

/// The signal a POST asks for; the error names the field at fault.
common::Result<governor::ThrottleSignal> signal_of(const rapidjson::Value& body,
                                                   std::chrono::system_clock::time_point now) {
  if (auto known = only_known(body, {"reason", "level", "ttlSeconds", "operator"}); !known) {
    return common::Unexpected{known.error()};
  }
  auto reason = optional_string(body, "reason");
  if (!reason) return common::Unexpected{reason.error()};
  if (reason->empty() || reason->size() > kMaxReason) {
    return common::fail("invalid_request", "reason: must be a string of 1 to " +
                                               std::to_string(kMaxReason) +
                                               " characters saying why jobs are held");
  }
  for (const unsigned char c : *reason) {
    if (c < 0x20 || c == 0x7f) {
      return common::fail("invalid_request", "reason: must not hold control characters");
    }
  }
  auto level_text = optional_string(body, "level");
  if (!level_text) return common::Unexpected{level_text.error()};
  const auto level = level_text->empty() ? std::optional(governor::ThrottleLevel::kPause)
                                         : governor::parse_throttle_level(*level_text);
  if (!level) return common::fail("invalid_request", "level: must be pause or slow");
  auto ttl = optional_number(body, "ttlSeconds");
  if (!ttl) return common::Unexpected{ttl.error()};
  governor::ThrottleSignal signal{governor::ThrottleSource::kApi, *level, *reason, now, {}};
  if (*ttl) {
    if (!(std::isfinite(**ttl) && **ttl > 0 && **ttl <= kMaxTtlSeconds)) {
      return common::fail("invalid_request", "ttlSeconds: must be more than 0 and at most 604800");
    }
    signal.expires = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::duration<double>(**ttl));
  }
  return signal;
}

}  // namespace

void add_throttle_routes(const AddRoute& add, jobs::JobManager& manager) {
  add(http::verb::get, "/v1/throttle", sync([&manager](const Request&, const PathParams&) {
        return throttle_state(manager, http::status::ok);
      }));
  add(http::verb::post, "/v1/throttle", sync([&manager](const Request& request, const PathParams&) {
        auto body = parse_json_body(request);
        if (!body) return error_response(body.error());
        if (!body->IsObject()) return fail("invalid_request", "body: must be a JSON object");
        const std::string who = operator_of(request, *body);
        auto signal = signal_of(*body, manager.governor().clock().system_now());
        if (!signal) {
          audit(request, who, "throttle", "refused: " + signal.error().message);
          return error_response(signal.error());
        }
        signal->reason += " (by " + who + ")";
        audit(request, who, "throttle " + std::string(governor::to_string(signal->level)), "ok");
        manager.governor().raise(std::move(*signal));
        return throttle_state(manager, http::status::ok);
      }));
  add(http::verb::delete_, "/v1/throttle",
      sync([&manager](const Request& request, const PathParams&) {
        auto body = optional_body(request);
        if (!body) return error_response(body.error());
        const std::string who = operator_of(request, *body);
        audit(request, who, "lift throttle", "ok");
        manager.governor().lift(governor::ThrottleSource::kApi);
        return throttle_state(manager, http::status::ok);
      }));
}

}  // namespace backfilld::api
