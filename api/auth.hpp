#pragma once
/// Bearer-token authentication of the control plane: who may call /v1/*, and who they are.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/result.hpp"

namespace backfilld::api {

/// Who sent a request, as an audit log records it; the operator's name comes from bodies.
enum class Caller { anonymous, token };

/// "anonymous" or "token".
std::string_view to_string(Caller caller);

/// Why a request was refused: a 401 error and the WWW-Authenticate challenge to send (RFC 6750).
struct AuthRejection {
  common::Error error;
  std::string challenge;
};

/// The bearer token of BACKFILLD_API_TOKEN(_FILE); disabled when none is configured. Only a
/// SHA-256 digest of the token is kept, and tokens are compared digest to digest in constant time.
class BearerAuth {
 public:
  /// Every request is let in as anonymous.
  static BearerAuth disabled();

  /// Requires `token`; empty tokens and tokens with whitespace or control characters are errors.
  static common::Result<BearerAuth> with_token(std::string_view token);

  /// Reads BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE (see from_sources).
  static common::Result<BearerAuth> from_environment();

  /// The token from `token` or, when set, the file `token_file` (trailing whitespace trimmed).
  /// Both set, an empty value or an unreadable or empty file are errors that name the variable
  /// or the file, never the token. Neither set: disabled.
  static common::Result<BearerAuth> from_sources(std::optional<std::string_view> token,
                                                 std::optional<std::string_view> token_file);

  /// True when a token is required.
  bool enabled() const { return enabled_; }

  /// Paths anyone may call, token or not: probes and metrics.
  static bool is_open_path(std::string_view path);

  /// Decides a request to `path` with the Authorization header `authorization` ("" when absent).
  /// Every path but the open ones needs the token (default deny: /v1/* and unknown paths alike).
  /// A missing or wrong token is 401 with a Bearer challenge: the caller has not authenticated
  /// (RFC 6750 §3 keeps 403 for a valid token lacking scope, which we do not have).
  common::Result<Caller, AuthRejection> check(std::string_view path,
                                              std::string_view authorization) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  BearerAuth() = default;
  bool enabled_ = false;
  Digest token_digest_{};
};

}  // namespace backfilld::api
