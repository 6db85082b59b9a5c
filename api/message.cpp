#include "api/message.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::api {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
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

}  // namespace

std::string_view target_path(std::string_view target) {
  const std::size_t scheme_end = target.find("://");
  if (!target.starts_with('/') && scheme_end != std::string_view::npos) {
    // Absolute form ("http://host/path", RFC 7230 §5.3.2): the path follows the authority.
    target.remove_prefix(scheme_end + 3);
    const std::size_t path_start = target.find_first_of("/?#");
    if (path_start == std::string_view::npos || target[path_start] != '/') return "/";
    target.remove_prefix(path_start);
  }
  return target.substr(0, target.find_first_of("?#"));
}

std::string_view Request::path() const { return target_path(message.target()); }

std::string_view Request::query() const {
  std::string_view target = message.target();
  target = target.substr(0, target.find('#'));
  const std::size_t question = target.find('?');
  return question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
}

bool is_json_content_type(std::string_view content_type) {
  std::size_t semicolon = content_type.find(';');
  if (!iequals(trim(content_type.substr(0, semicolon)), "application/json")) return false;
  while (semicolon != std::string_view::npos) {
    content_type.remove_prefix(semicolon + 1);
    semicolon = content_type.find(';');
    const std::string_view parameter = trim(content_type.substr(0, semicolon));
    if (parameter.empty()) continue;
    const std::size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) return false;
    std::string_view value = trim(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!iequals(trim(parameter.substr(0, equals)), "charset") || !iequals(value, "utf-8")) {
      return false;
    }
  }
  return true;
}

common::Result<rapidjson::Document> parse_json_body(const Request& request) {
  if (request.message.body().empty()) {
    return common::fail("invalid_request", "the request body must be a JSON document");
  }
  return common::parse_json(request.message.body());
}

}  // namespace backfilld::api
