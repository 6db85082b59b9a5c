#include "api/router.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "daemon/common/json.hpp"

namespace backfilld::api {
namespace {

Handler named(std::string name) {
  return [name](const Request&, const PathParams& params) -> net::awaitable<Response> {
    Response response(http::status::ok, 11);
    response.body() = name;
    for (std::string_view key : {"id", "action"}) {
      if (auto value = params.find(key)) response.body() += " " + std::string(*value);
    }
    co_return response;
  };
}

Router job_routes() {
  Router router;
  router.add(http::verb::get, "/v1/jobs", named("list"))
      .add(http::verb::post, "/v1/jobs", named("create"))
      .add(http::verb::get, "/v1/jobs/{id}", named("get"))
      .add(http::verb::patch, "/v1/jobs/{id}", named("patch"))
      .add(http::verb::get, "/v1/jobs/stats", named("stats"))
      .add(http::verb::post, "/v1/jobs/{id}/pause", named("pause"))
      .add(http::verb::post, "/v1/jobs/{id}/{action}", named("action"))
      .add(http::verb::get, "/healthz", named("health"));
  return router;
}

// Runs a dispatch to completion on a private io_context.
Response dispatch(const Router& router, http::verb method, std::string target) {
  net::io_context io;
  Request request;
  request.message.method(method);
  request.message.target(target);
  std::optional<Response> response;
  net::co_spawn(io, router.dispatch(request), [&](std::exception_ptr error, Response result) {
    if (error) std::rethrow_exception(error);
    response = std::move(result);
  });
  io.run();
  REQUIRE(response.has_value());
  return std::move(*response);
}

std::string error_code_of(const Response& response) {
  auto body = common::parse_json(response.body());
  REQUIRE(body.ok());
  return std::string(*common::string_member((*body)["error"], "code"));
}

}  // namespace

TEST_CASE("router: parameters are captured and percent-decoded") {
  const Router router = job_routes();
  RouteMatch match = router.match(http::verb::post, "/v1/jobs/job%2D7/pause");
  REQUIRE(match.found());
  CHECK(match.params.size() == 1);
  CHECK(match.params.at("id") == "job-7");
  CHECK_THROWS_AS(match.params.at("nope"), std::out_of_range);

  CHECK(dispatch(router, http::verb::post, "/v1/jobs/j1/pause").body() == "pause j1");
  CHECK(dispatch(router, http::verb::post, "/v1/jobs/j1/resume").body() == "action j1 resume");
  CHECK(dispatch(router, http::verb::get, "/v1/jobs/j1?verbose=1").body() == "get j1");
  CHECK(dispatch(router, http::verb::get, "/v1/jobs").body() == "list");
}

TEST_CASE("router: HEAD is served by the GET route unless it has its own") {
  Router router = job_routes();
  CHECK(dispatch(router, http::verb::head, "/v1/jobs").body() == "list");
  const Response response = dispatch(router, http::verb::head, "/v1/jobs/j1/pause");
  CHECK(response.result() == http::status::method_not_allowed);
  CHECK(response[http::field::allow] == "POST");
  router.add(http::verb::head, "/v1/jobs", named("head"));
  CHECK(dispatch(router, http::verb::head, "/v1/jobs").body() == "head");
}

TEST_CASE("router: a literal segment wins over a parameter, whatever the registration order") {
  const Router router = job_routes();
  CHECK(dispatch(router, http::verb::get, "/v1/jobs/stats").body() == "stats");
  CHECK(dispatch(router, http::verb::get, "/v1/jobs/other").body() == "get other");
}

TEST_CASE("router: unknown paths are 404 JSON") {
  const Router router = job_routes();
  for (const char* target :
       {"/v1/nothing", "/v1/jobs/", "/v1/jobs//pause", "/", "/v1/jobs/a/b/c"}) {
    CAPTURE(target);
    const Response response = dispatch(router, http::verb::get, target);
    CHECK(response.result() == http::status::not_found);
    CHECK(response[http::field::content_type] == "application/json");
    CHECK(error_code_of(response) == "not_found");
  }
}

TEST_CASE("router: a known path with another method is 405 with Allow") {
  const Router router = job_routes();
  Response response = dispatch(router, http::verb::delete_, "/v1/jobs/j1");
  CHECK(response.result() == http::status::method_not_allowed);
  CHECK(response[http::field::allow] == "GET, PATCH");
  CHECK(error_code_of(response) == "method_not_allowed");

  response = dispatch(router, http::verb::put, "/v1/jobs");
  CHECK(response[http::field::allow] == "GET, POST");

  // /v1/jobs/stats is also matched by /v1/jobs/{id}: both routes' methods are allowed.
  response = dispatch(router, http::verb::delete_, "/v1/jobs/stats");
  CHECK(response[http::field::allow] == "GET, PATCH");

  response = dispatch(router, http::verb::get, "/v1/jobs/j1/pause");
  CHECK(response.result() == http::status::method_not_allowed);
  CHECK(response[http::field::allow] == "POST");
}

TEST_CASE("router: a malformed escape in a parameter is 400") {
  const Router router = job_routes();
  for (const char* target : {"/v1/jobs/a%zz", "/v1/jobs/a%4", "/v1/jobs/%"}) {
    CAPTURE(target);
    const Response response = dispatch(router, http::verb::get, target);
    CHECK(response.result() == http::status::bad_request);
    CHECK(error_code_of(response) == "invalid_request");
  }
}

TEST_CASE("router: malformed and duplicate patterns are refused at registration") {
  Router router;
  router.add(http::verb::get, "/v1/jobs/{id}", named("get"));
  CHECK_THROWS_AS(router.add(http::verb::get, "/v1/jobs/{job}", named("x")), std::invalid_argument);
  CHECK_NOTHROW(router.add(http::verb::patch, "/v1/jobs/{job}", named("x")));
  for (const char* pattern :
       {"v1/jobs", "", "/v1/{}", "/v1/{id", "/v1/x{id}", "/v1/{a-b}", "/v1/{id}/{id}", "/v1?x"}) {
    CAPTURE(pattern);
    CHECK_THROWS_AS(router.add(http::verb::get, pattern, named("x")), std::invalid_argument);
  }
  CHECK_THROWS_AS(router.add(http::verb::get, "/v1/none", Handler{}), std::invalid_argument);
}

}  // namespace backfilld::api
