#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace backfilld::api {
namespace {

constexpr std::string_view kTokenVariable = "BACKFILLD_API_TOKEN";
constexpr std::string_view kTokenFileVariable = "BACKFILLD_API_TOKEN_FILE";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A token travels in a header as one visible-ASCII word (RFC 6750's b64token is a subset).
bool is_valid_token(std::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    // Only a broken OpenSSL gets here; letting everyone in is not an option.
    std::abort();
  }
  return digest;
}

std::optional<std::string_view> environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string_view(value);
}

}  // namespace

std::string_view to_string(Caller caller) {
  switch (caller) {
    case Caller::token:
      return "token";
    case Caller::anonymous:
      break;
  }
  return "anonymous";
}

BearerAuth BearerAuth::disabled() { return BearerAuth(); }

common::Result<BearerAuth> BearerAuth::with_token(std::string_view token) {
  if (!is_valid_token(token)) {
    return common::fail("invalid_config",
                        "the API token must be non-empty visible ASCII without whitespace");
  }
  BearerAuth auth;
  auth.enabled_ = true;
  auth.token_digest_ = sha256(token);
  return auth;
}

common::Result<BearerAuth> BearerAuth::from_environment() {
  return from_sources(environment(kTokenVariable), environment(kTokenFileVariable));
}

common::Result<BearerAuth> BearerAuth::from_sources(std::optional<std::string_view> token,
                                                    std::optional<std::string_view> token_file) {
  if (token && token_file) {
    return common::fail("invalid_config", std::string(kTokenVariable) + " and " +
                                              std::string(kTokenFileVariable) +
                                              " are both set; set only one");
  }
  if (token) {
    auto auth = with_token(*token);
    if (!auth) {
      return common::fail("invalid_config",
                          std::string(kTokenVariable) + ": " + auth.error().message);
    }
    return auth;
  }
  if (!token_file) return disabled();

  const std::string path(*token_file);
  if (path.empty()) {
    return common::fail("invalid_config", std::string(kTokenFileVariable) + " is set but empty");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return common::fail("invalid_config", std::string(kTokenFileVariable) + ": cannot read " +
                                              path + ": " + std::strerror(errno));
  }
  std::string contents((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    OPENSSL_cleanse(contents.data(), contents.size());
    return common::fail("invalid_config",
                        std::string(kTokenFileVariable) + ": cannot read " + path);
  }
  std::string_view value = contents;
  while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
  common::Result<BearerAuth> auth = with_token(value);
  OPENSSL_cleanse(contents.data(), contents.size());
  if (!auth) {
    return common::fail("invalid_config",
                        std::string(kTokenFileVariable) + ": " + path +
                            (value.empty() ? " is empty" : ": " + auth.error().message));
  }
  return auth;
}

bool BearerAuth::is_open_path(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

common::Result<Caller, AuthRejection> BearerAuth::check(std::string_view path,
                                                        std::string_view authorization) const {
  if (!enabled_ || is_open_path(path)) return Caller::anonymous;

  authorization = trim(authorization);
  const std::size_t space = authorization.find_first_of(" \t");
  const std::string_view scheme = authorization.substr(0, space);
  const std::string_view presented =
      space == std::string_view::npos ? std::string_view() : trim(authorization.substr(space));
  if (!iequals(scheme, "Bearer") || presented.empty()) {
    return common::Unexpected<AuthRejection>{
        {{"unauthorized", "missing bearer token: send Authorization: Bearer <token>"}, "Bearer"}};
  }
  // Digests have equal length whatever was sent, so neither the length nor a common prefix of
  // the token shows in the time the comparison takes.
  const auto digest = sha256(presented);
  if (CRYPTO_memcmp(digest.data(), token_digest_.data(), digest.size()) != 0) {
    return common::Unexpected<AuthRejection>{
        {{"unauthorized", "invalid bearer token"}, R"(Bearer error="invalid_token")"}};
  }
  return Caller::token;
}

}  // namespace backfilld::api
