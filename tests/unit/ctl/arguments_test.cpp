#include "daemon/ctl/arguments.hpp"

#include <doctest/doctest.h>

#include "daemon/ctl/http_client.hpp"

namespace backfilld::ctl {
namespace {

std::string usage_error(const std::vector<std::string>& args) {
  auto parsed = parse_ctl_args(args);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == "usage");
  return parsed.error().message;
}

std::string set_error(const std::vector<std::string>& assignments) {
  auto body = knob_patch_body(assignments, "");
  REQUIRE_FALSE(body);
  return body.error().message;
}

TEST_CASE("commands, operands and options parse; options may come anywhere") {
  auto submit =
      parse_ctl_args({"submit", "--dry-run", "m.json", "--operator", "ana", "-o", "json"});
  REQUIRE(submit);
  CHECK(submit->command == "submit");
  CHECK(submit->operands == std::vector<std::string>{"m.json"});
  CHECK(submit->dry_run);
  CHECK(submit->operator_name == "ana");
  CHECK(submit->json);

  auto watch = parse_ctl_args({"watch", "--interval", "0.5", "--once"});
  REQUIRE(watch);
  CHECK(watch->operands.empty());
  CHECK(watch->interval == std::chrono::milliseconds(500));
  CHECK(watch->once);

  auto set = parse_ctl_args({"set", "j1", "batchSize=7", "writeMode=bulk"});
  REQUIRE(set);
  CHECK(set->operands.size() == 3);
}

TEST_CASE("usage errors say what is wrong") {
  CHECK(usage_error({}) == "a command is needed");
  CHECK(usage_error({"frobnicate"}) == "unknown command \"frobnicate\"");
  CHECK(usage_error({"show"}) == "show takes JOB, got 0 operands");
  CHECK(usage_error({"jobs", "extra"}) == "jobs takes no operands, got 1 operand");
  CHECK(usage_error({"set", "j1"}) == "set takes JOB key=value..., got 1 operand");
  CHECK(usage_error({"jobs", "--dry-run"}) == "--dry-run does not apply to jobs");
  CHECK(usage_error({"show", "j", "--once"}) == "--once does not apply to show");
  CHECK(usage_error({"jobs", "--operator", "x"}) == "--operator does not apply to jobs");
  CHECK(usage_error({"jobs", "--output", "yaml"}) == "--output must be text or json");
  CHECK(usage_error({"watch", "--interval", "0"}) == "--interval must be from 0.1 to 3600 seconds");
  CHECK(usage_error({"jobs", "--bogus"}).find("bogus") != std::string::npos);
}

TEST_CASE("set builds the PATCH body with numbers as JSON numbers") {
  auto body =
      knob_patch_body({"batchSize=7", "maxDocumentsPerSecond=2.5", "maxRequestUnitsPerSecond=400",
                       "writeMode=single", "rangeConcurrency=3", "writeConcurrency=8"},
                      "ana");
  REQUIRE(body);
  CHECK(*body ==
        R"({"batchSize":7,"maxDocumentsPerSecond":2.5,"maxRequestUnitsPerSecond":400,)"
        R"("writeMode":"single","rangeConcurrency":3,"writeConcurrency":8,"operator":"ana"})");
}

TEST_CASE("set with a bad key=value gets a clear error") {
  CHECK(
      set_error({"batchSize"}).starts_with("set: \"batchSize\" is not key=value (keys: batchSize"));
  CHECK(set_error({"=7"}).starts_with("set: \"=7\" is not key=value"));
  CHECK(
      set_error({"batchsize=7"}).starts_with("set: unknown knob \"batchsize\" (one of batchSize"));
  CHECK(set_error({"batchSize=seven"}) == "set: batchSize=seven: must be a whole number");
  CHECK(set_error({"batchSize=7.5"}) == "set: batchSize=7.5: must be a whole number");
  CHECK(set_error({"batchSize=-1"}) == "set: batchSize=-1: must be a whole number");
  CHECK(set_error({"batchSize=5000"})
            .starts_with("set: batchSize: must be an integer from 1 to 1000"));
  CHECK(set_error({"maxDocumentsPerSecond=fast"}) ==
        "set: maxDocumentsPerSecond=fast: must be a number");
  CHECK(set_error({"maxDocumentsPerSecond=-5"}).starts_with("set: maxDocumentsPerSecond:"));
  CHECK(set_error({"writeMode=turbo"}) ==
        "set: writeMode=turbo: must be auto, batch, bulk or single");
  CHECK(set_error({"batchSize=7", "batchSize=8"}) == "set: batchSize given twice");
}

TEST_CASE("BACKFILLD_URL: http with host and port, https and junk refused with the reason") {
  auto plain = parse_endpoint("http://127.0.0.1:8080");
  REQUIRE(plain);
  CHECK(plain->host == "127.0.0.1");
  CHECK(plain->port == "8080");
  CHECK(plain->base_path.empty());
  auto prefixed = parse_endpoint("http://[::1]:9000/backfilld/");
  REQUIRE(prefixed);
  CHECK(prefixed->host == "::1");
  CHECK(prefixed->port == "9000");
  CHECK(prefixed->base_path == "/backfilld");
  auto default_port = parse_endpoint("http://backfilld.ops");
  REQUIRE(default_port);
  CHECK(default_port->port == "80");
  CHECK(parse_endpoint("https://x:1").error().message.find("https is not supported") !=
        std::string::npos);
  CHECK(parse_endpoint("127.0.0.1:8080").error().message.find("must start with http://") !=
        std::string::npos);
  CHECK(parse_endpoint("http://host:99999").error().message.find("port from 1 to 65535") !=
        std::string::npos);
  CHECK_FALSE(parse_endpoint("http://:8080"));
}

}  // namespace
}  // namespace backfilld::ctl
