#include "api/errors.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <utility>

#include "daemon/common/json.hpp"

namespace backfilld::api {
namespace {

constexpr std::string_view kJson = "application/json";

// Codes of every layer that reach HTTP. A code missing here answers 500: add it here, and only
// here.
constexpr std::array<std::pair<std::string_view, http::status>, 17> kStatusByCode{{
    {"invalid_request", http::status::bad_request},
    {"invalid_json", http::status::bad_request},
    {"unauthorized", http::status::unauthorized},
    {"forbidden", http::status::forbidden},
    {"not_found", http::status::not_found},
    {"method_not_allowed", http::status::method_not_allowed},
    {"conflict", http::status::conflict},
    {"payload_too_large", http::status::payload_too_large},
    {"unsupported_media_type", http::status::unsupported_media_type},
    {"unprocessable", http::status::unprocessable_entity},
    {"invalid_manifest", http::status::unprocessable_entity},
    {"live_gate", http::status::unprocessable_entity},
    {"header_too_large", http::status::request_header_fields_too_large},
    {"too_many_requests", http::status::too_many_requests},
    {"unavailable", http::status::service_unavailable},
    {"not_implemented", http::status::not_implemented},
    {"internal", http::status::internal_server_error},
}};

}  // namespace

http::status status_for(std::string_view code) {
  for (const auto& [known, status] : kStatusByCode) {
    if (known == code) return status;
  }
  return http::status::internal_server_error;
}

Response error_response(const common::Error& error) {
  return error_response(error.code, error.message);
}

Response error_response(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  writer.StartObject();
  writer.Key("error");
  writer.StartObject();
  writer.Key("code");
  writer.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  writer.Key("message");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  writer.EndObject();
  return json_response(status_for(code), std::string(text.GetString(), text.GetSize()));
}

Response json_response(http::status status, const rapidjson::Value& body) {
  return json_response(status, common::to_json(body));
}

Response json_response(http::status status, std::string json_text) {
  return text_response(status, std::move(json_text), kJson);
}

Response text_response(http::status status, std::string body, std::string_view content_type) {
  Response response(status, 11);
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

}  // namespace backfilld::api
