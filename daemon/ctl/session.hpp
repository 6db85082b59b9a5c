#pragma once
/// One `backfilld ctl` invocation's connection to the daemon: the endpoint, the token, the parsed
/// command line, and the one place that turns an answer into output or an exit code.
#include <rapidjson/document.h>

#include <ostream>
#include <string>

#include "daemon/common/env.hpp"
#include "daemon/common/result.hpp"
#include "daemon/ctl/arguments.hpp"
#include "daemon/ctl/http_client.hpp"

namespace backfilld::ctl {

/// The bearer token: BACKFILLD_API_TOKEN, or the file BACKFILLD_API_TOKEN_FILE names (trailing
/// whitespace trimmed); neither set is an empty token. Both set or an unreadable or empty file
/// are errors naming the variable.
common::Result<std::string> read_bearer_token(const common::EnvLookup& env);

/// `text` as one path segment: all but unreserved characters percent-encoded.
std::string encode_segment(std::string_view text);

/// What a command needs to talk to the daemon and to the operator.
struct Session {
  Endpoint endpoint;
  std::string token;
  CtlArgs args;
  std::ostream& out;
  std::ostream& err;
  std::string last_body;  ///< the last 2xx answer as sent, for --output json

  /// Sends a request; the parsed answer when it is 2xx, else the CtlExit code after saying why
  /// on `err` (with --output json the API's error body also goes to `out`).
  common::Result<rapidjson::Document, int> call(const std::string& method,
                                                const std::string& target,
                                                const std::string& body = {});

  /// The path of the job the first operand names.
  std::string job_path() const;

  /// Prints the last answer as is when --output json; true when it did.
  bool printed_json();
};

/// `watch [JOB]`: the live view (watch_command.cpp).
int watch(Session& session);

}  // namespace backfilld::ctl
