#include "api/errors.hpp"

#include <doctest/doctest.h>

#include "daemon/common/json.hpp"

namespace backfilld::api {

TEST_CASE("errors: codes map to HTTP status in one place, unknown codes are 500") {
  CHECK(status_for("invalid_request") == http::status::bad_request);
  CHECK(status_for("invalid_json") == http::status::bad_request);
  CHECK(status_for("unauthorized") == http::status::unauthorized);
  CHECK(status_for("forbidden") == http::status::forbidden);
  CHECK(status_for("not_found") == http::status::not_found);
  CHECK(status_for("method_not_allowed") == http::status::method_not_allowed);
  CHECK(status_for("conflict") == http::status::conflict);
  CHECK(status_for("payload_too_large") == http::status::payload_too_large);
  CHECK(status_for("unsupported_media_type") == http::status::unsupported_media_type);
  CHECK(status_for("unprocessable") == http::status::unprocessable_entity);
  CHECK(status_for("invalid_manifest") == http::status::unprocessable_entity);
  CHECK(status_for("header_too_large") == http::status::request_header_fields_too_large);
  CHECK(status_for("unavailable") == http::status::service_unavailable);
  CHECK(status_for("internal") == http::status::internal_server_error);
  CHECK(status_for("something_new") == http::status::internal_server_error);
  CHECK(status_for("") == http::status::internal_server_error);
}

TEST_CASE("errors: error_response is the documented JSON shape, escaped") {
  const Response response =
      error_response(common::Error{"invalid_manifest", "containers[0].name: \"x\"\n"});
  CHECK(response.result() == http::status::unprocessable_entity);
  CHECK(response[http::field::content_type] == "application/json");
  auto body = common::parse_json(response.body());
  REQUIRE(body.ok());
  REQUIRE(body->IsObject());
  CHECK(body->MemberCount() == 1);
  const rapidjson::Value& error = (*body)["error"];
  CHECK(common::string_member(error, "code") ==
        std::optional<std::string_view>("invalid_manifest"));
  CHECK(common::string_member(error, "message") ==
        std::optional<std::string_view>("containers[0].name: \"x\"\n"));
}

TEST_CASE("errors: JSON and text success responses carry their content type") {
  auto document = common::parse_json(R"({"ids":["a","b"]})");
  REQUIRE(document.ok());
  Response response = json_response(http::status::created, *document);
  CHECK(response.result() == http::status::created);
  CHECK(response[http::field::content_type] == "application/json");
  CHECK(response.body() == R"({"ids":["a","b"]})");

  response = json_response(http::status::ok, std::string(R"({"ok":true})"));
  CHECK(response.body() == R"({"ok":true})");

  response = text_response(http::status::ok, "up 1\n", "text/plain; version=0.0.4");
  CHECK(response[http::field::content_type] == "text/plain; version=0.0.4");
  CHECK(response.body() == "up 1\n");
}

}  // namespace backfilld::api
