#include "api/message.hpp"

#include <doctest/doctest.h>

namespace backfilld::api {

TEST_CASE("message: path and query of a target") {
  Request request;
  request.message.target("/v1/jobs/j1?verbose=1&x=2#frag");
  CHECK(request.path() == "/v1/jobs/j1");
  CHECK(request.query() == "verbose=1&x=2");
  request.message.target("/v1/jobs");
  CHECK(request.path() == "/v1/jobs");
  CHECK(request.query().empty());
  CHECK(target_path("/a#b?c") == "/a");
  CHECK(target_path("http://host:8080/v1/jobs?x=1") == "/v1/jobs");
  CHECK(target_path("http://host:8080") == "/");
  CHECK(target_path("http://host?x") == "/");
  CHECK(target_path("*") == "*");
  request.message.target("http://host/v1/jobs?verbose=1");
  CHECK(request.path() == "/v1/jobs");
  CHECK(request.query() == "verbose=1");
}

TEST_CASE("message: JSON content types, with a UTF-8 charset at most") {
  CHECK(is_json_content_type("application/json"));
  CHECK(is_json_content_type("Application/JSON"));
  CHECK(is_json_content_type("application/json; charset=utf-8"));
  CHECK(is_json_content_type("application/json;charset=\"UTF-8\""));
  CHECK(is_json_content_type(" application/json ; "));
  CHECK_FALSE(is_json_content_type(""));
  CHECK_FALSE(is_json_content_type("text/plain"));
  CHECK_FALSE(is_json_content_type("application/jsonx"));
  CHECK_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
  CHECK_FALSE(is_json_content_type("application/json; charset=latin1"));
  CHECK_FALSE(is_json_content_type("application/json; boundary"));
}

TEST_CASE("message: parse_json_body") {
  Request request;
  auto empty = parse_json_body(request);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == "invalid_request");

  request.message.body() = "{nope";
  auto broken = parse_json_body(request);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().code == "invalid_json");

  request.message.body() = R"({"dryRun":true})";
  auto parsed = parse_json_body(request);
  REQUIRE(parsed.ok());
  CHECK((*parsed)["dryRun"].GetBool());
}

}  // namespace backfilld::api
