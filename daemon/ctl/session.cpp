#include "daemon/ctl/session.hpp"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "daemon/common/json.hpp"

namespace backfilld::ctl {
namespace {

constexpr std::string_view kTokenVariables = "BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE";

}  // namespace

common::Result<std::string> read_bearer_token(const common::EnvLookup& env) {
  const auto token = env("BACKFILLD_API_TOKEN");
  const auto token_file = env("BACKFILLD_API_TOKEN_FILE");
  if (token && token_file)
    return common::fail("usage", "BACKFILLD_API_TOKEN and BACKFILLD_API_TOKEN_FILE are both set");
  if (token) return *token;
  if (!token_file) return std::string();
  std::ifstream file(*token_file, std::ios::binary);
  if (!file) return common::fail("usage", "BACKFILLD_API_TOKEN_FILE: cannot read " + *token_file);
  std::string contents((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  while (!contents.empty() && std::isspace(static_cast<unsigned char>(contents.back())))
    contents.pop_back();
  if (contents.empty())
    return common::fail("usage", "BACKFILLD_API_TOKEN_FILE: " + *token_file + " is empty");
  return contents;
}

std::string encode_segment(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", byte);
      out += escaped;
    }
  }
  return out;
}

common::Result<rapidjson::Document, int> Session::call(const std::string& method,
                                                       const std::string& target,
                                                       const std::string& body) {
  auto response =
      send(endpoint, {.method = method, .target = target, .body = body, .token = token});
  if (!response) {
    err << "backfilld ctl: cannot reach the daemon at " << endpoint.url << ": "
        << response.error().message << " (BACKFILLD_URL sets where it listens)\n";
    return common::Unexpected<int>{kCtlUnreachable};
  }
  const unsigned status = response->status;
  auto parsed = common::parse_json(response->body);
  if (status >= 200 && status < 300) {
    if (!parsed) {
      err << "backfilld ctl: the daemon's answer is not JSON: " << parsed.error().message << "\n";
      return common::Unexpected<int>{kCtlFailed};
    }
    last_body = std::move(response->body);
    return std::move(*parsed);
  }
  std::string detail = "HTTP " + std::to_string(status);
  if (parsed && parsed->IsObject()) {
    if (const rapidjson::Value* error = common::find_member(*parsed, "error")) {
      detail += " " + std::string(common::string_member(*error, "code").value_or("")) + ": " +
                std::string(common::string_member(*error, "message").value_or(""));
    }
  }
  if (args.json) out << response->body << (response->body.ends_with('\n') ? "" : "\n");
  if (status == 401 || status == 403) {
    err << "backfilld ctl: not authorized (" << detail << "); "
        << (token.empty() ? "no token is set: set " : "check ") << kTokenVariables << "\n";
    return common::Unexpected<int>{kCtlUnauthorized};
  }
  if (status == 404 && !args.operands.empty() && args.command != "submit") {
    err << "backfilld ctl: no job \"" << args.operands.front() << "\" (" << detail << ")\n";
    return common::Unexpected<int>{kCtlNotFound};
  }
  err << "backfilld ctl: " << method << " " << target << " refused: " << detail << "\n";
  return common::Unexpected<int>{status >= 500 ? kCtlFailed : kCtlUsage};
}

std::string Session::job_path() const {
  return "/v1/jobs/" + encode_segment(args.operands.front());
}

bool Session::printed_json() {
  if (args.json) out << last_body << (last_body.ends_with('\n') ? "" : "\n");
  return args.json;
}

}  // namespace backfilld::ctl
