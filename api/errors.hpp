#pragma once
/// JSON responses of the control plane, and the one place that maps error codes to HTTP status.
#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "api/message.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::api {

/// The HTTP status for a common::Error code; codes nobody mapped are 500 (internal).
http::status status_for(std::string_view code);

/// `{"error": {"code": ..., "message": ...}}` with the status of status_for(error.code).
Response error_response(const common::Error& error);

/// The same, from a code and a message.
Response error_response(std::string_view code, std::string_view message);

/// A JSON response whose body is the compact text of `body`.
Response json_response(http::status status, const rapidjson::Value& body);

/// A JSON response whose body is `json_text`, already serialized.
Response json_response(http::status status, std::string json_text);

/// A non-JSON response (e.g. Prometheus text on /metrics).
Response text_response(http::status status, std::string body, std::string_view content_type);

}  // namespace backfilld::api
