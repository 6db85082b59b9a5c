#include "api/auth.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace backfilld::api {
namespace {

constexpr std::string_view kToken = "s3cr3t-t0ken_value";

/// A file with `contents` in the temp directory, removed at scope end.
class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    std::string pattern = (std::filesystem::temp_directory_path() / "backfilld-token-XXXXXX");
    const int fd = ::mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

BearerAuth token_auth() {
  auto auth = BearerAuth::with_token(kToken);
  REQUIRE(auth.ok());
  return std::move(auth).value();
}

}  // namespace

TEST_CASE("auth: a missing or non-Bearer header is 401 with a plain Bearer challenge") {
  const BearerAuth auth = token_auth();
  for (std::string_view header :
       {"", "   ", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token s3cr3t-t0ken_value"}) {
    CAPTURE(header);
    auto decision = auth.check("/v1/jobs", header);
    REQUIRE_FALSE(decision.ok());
    CHECK(decision.error().error.code == "unauthorized");
    CHECK(decision.error().challenge == "Bearer");
  }
}

TEST_CASE("auth: a wrong token is 401 invalid_token, whatever its length") {
  const BearerAuth auth = token_auth();
  for (std::string_view header :
       {"Bearer s3cr3t-t0ken_valuE", "Bearer s3cr3t-t0ken_valu", "Bearer s3cr3t-t0ken_value2",
        "Bearer x", "Bearer s3cr3t-t0ken_value s3cr3t-t0ken_value"}) {
    CAPTURE(header);
    auto decision = auth.check("/v1/jobs", header);
    REQUIRE_FALSE(decision.ok());
    CHECK(decision.error().error.code == "unauthorized");
    CHECK(decision.error().challenge == R"(Bearer error="invalid_token")");
    CHECK(decision.error().error.message.find(kToken) == std::string::npos);
  }
}

TEST_CASE("auth: the right token identifies the caller as token") {
  const BearerAuth auth = token_auth();
  for (std::string_view header :
       {"Bearer s3cr3t-t0ken_value", "bearer s3cr3t-t0ken_value", "BEARER  s3cr3t-t0ken_value  "}) {
    CAPTURE(header);
    auto decision = auth.check("/v1/jobs/j1/pause", header);
    REQUIRE(decision.ok());
    CHECK(*decision == Caller::token);
  }
  CHECK(to_string(Caller::token) == "token");
  CHECK(to_string(Caller::anonymous) == "anonymous");
}

TEST_CASE("auth: probes and metrics are open, everything else is closed by default") {
  const BearerAuth auth = token_auth();
  for (std::string_view path : {"/healthz", "/readyz", "/metrics"}) {
    CAPTURE(path);
    auto decision = auth.check(path, "");
    REQUIRE(decision.ok());
    CHECK(*decision == Caller::anonymous);
  }
  for (std::string_view path : {"/v1", "/v1/jobs", "/healthz/", "/metrics/../v1/jobs", "/other"}) {
    CAPTURE(path);
    CHECK_FALSE(auth.check(path, "").ok());
  }
}

TEST_CASE("auth: disabled lets everyone in as anonymous") {
  const BearerAuth auth = BearerAuth::disabled();
  CHECK_FALSE(auth.enabled());
  auto decision = auth.check("/v1/jobs", "");
  REQUIRE(decision.ok());
  CHECK(*decision == Caller::anonymous);
}

TEST_CASE("auth: configuration from the variable or the file") {
  SUBCASE("neither: disabled") {
    auto auth = BearerAuth::from_sources(std::nullopt, std::nullopt);
    REQUIRE(auth.ok());
    CHECK_FALSE(auth->enabled());
  }
  SUBCASE("the variable") {
    auto auth = BearerAuth::from_sources(kToken, std::nullopt);
    REQUIRE(auth.ok());
    CHECK(auth->enabled());
    CHECK(auth->check("/v1/jobs", "Bearer s3cr3t-t0ken_value").ok());
  }
  SUBCASE("the file, trailing whitespace trimmed") {
    TempFile file("s3cr3t-t0ken_value \r\n\n");
    auto auth = BearerAuth::from_sources(std::nullopt, file.path());
    REQUIRE(auth.ok());
    CHECK(auth->check("/v1/jobs", "Bearer s3cr3t-t0ken_value").ok());
    CHECK_FALSE(auth->check("/v1/jobs", "Bearer s3cr3t-t0ken_valu").ok());
  }
  SUBCASE("an empty file is an error naming the file") {
    TempFile file(" \n");
    auto auth = BearerAuth::from_sources(std::nullopt, file.path());
    REQUIRE_FALSE(auth.ok());
    CHECK(auth.error().message.find(file.path()) != std::string::npos);
    CHECK(auth.error().message.find("empty") != std::string::npos);
  }
  SUBCASE("a token with inner whitespace names the file, never the token") {
    TempFile file("s3cr3t t0ken\n");
    auto auth = BearerAuth::from_sources(std::nullopt, file.path());
    REQUIRE_FALSE(auth.ok());
    CHECK(auth.error().message.find(file.path()) != std::string::npos);
    CHECK(auth.error().message.find("s3cr3t") == std::string::npos);
  }
  SUBCASE("a missing file is an error naming the file") {
    auto auth = BearerAuth::from_sources(std::nullopt, "/nonexistent/backfilld/token");
    REQUIRE_FALSE(auth.ok());
    CHECK(auth.error().message.find("/nonexistent/backfilld/token") != std::string::npos);
  }
  SUBCASE("both set, or an empty variable, are errors") {
    TempFile file("abc");
    auto both = BearerAuth::from_sources(kToken, file.path());
    REQUIRE_FALSE(both.ok());
    CHECK(both.error().message.find("BACKFILLD_API_TOKEN_FILE") != std::string::npos);
    CHECK(both.error().message.find(kToken) == std::string::npos);
    auto empty = BearerAuth::from_sources("", std::nullopt);
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().message.find("BACKFILLD_API_TOKEN") != std::string::npos);
  }
}

}  // namespace backfilld::api
