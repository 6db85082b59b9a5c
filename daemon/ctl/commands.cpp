#include "daemon/ctl/commands.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <ostream>

#include "daemon/common/json.hpp"
#include "daemon/ctl/arguments.hpp"
#include "daemon/ctl/session.hpp"
#include "daemon/ctl/watch_view.hpp"

namespace backfilld::ctl {
namespace {

std::string operator_body(const std::string& name) {
  std::string body = "{\"operator\":";
  common::append_json_string(name, body);
  return body + "}";
}

std::string percent(const rapidjson::Value& job) {
  const rapidjson::Value* progress = common::find_member(job, "progress");
  const rapidjson::Value* ratio = progress ? common::find_member(*progress, "ratio") : nullptr;
  if (ratio == nullptr || !ratio->IsNumber()) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", ratio->GetDouble() * 100);
  return text;
}

std::string field(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* value = common::find_member(object, name);
  if (value == nullptr || value->IsNull()) return "-";
  if (value->IsString()) return value->GetString();
  return common::to_json(*value);
}

int jobs(Session& session) {
  auto answer = session.call("GET", "/v1/jobs");
  if (!answer) return answer.error();
  if (session.printed_json()) return kCtlOk;
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATE", "MODE", "KIND", "CONTAINER", "PROGRESS"}};
  if (const rapidjson::Value* list = common::find_member(*answer, "jobs");
      list && list->IsArray()) {
    for (const rapidjson::Value& job : list->GetArray()) {
      const rapidjson::Value* dry = common::find_member(job, "dryRun");
      rows.push_back({field(job, "id"), field(job, "state"),
                      dry && dry->IsBool() ? (dry->GetBool() ? "dry-run" : "live") : "-",
                      field(job, "kind"), field(job, "container"), percent(job)});
    }
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    session.out << line << "\n";
  }
  return kCtlOk;
}

void print_status(Session& session, const rapidjson::Value& job) {
  for (const std::string& line : render_job(job, ViewStyle{})) session.out << line << "\n";
  if (const rapidjson::Value* knobs = common::find_member(job, "knobs");
      knobs && knobs->IsObject()) {
    std::string line = "  knobs:";
    for (const auto& member : knobs->GetObject())
      line +=
          " " + std::string(member.name.GetString()) + "=" + field(*knobs, member.name.GetString());
    session.out << line << "\n";
  }
  if (const rapidjson::Value* counts = common::find_member(job, "counts")) {
    session.out << "  counts: " << common::to_json(*counts) << "\n";
  }
  for (const char* name : {"operator", "submittedAt", "startedAt", "finishedAt"})
    session.out << "  " << name << ": " << field(job, name) << "\n";
}

int show(Session& session) {
  auto answer = session.call("GET", session.job_path());
  if (!answer) return answer.error();
  if (!session.printed_json()) print_status(session, *answer);
  return kCtlOk;
}

std::string default_operator(const CtlArgs& args, const common::EnvLookup& env) {
  if (args.operator_name) return *args.operator_name;
  const auto user = env("USER");
  return user && !user->empty() ? *user : "ctl";
}

int submit(Session& session, const common::EnvLookup& env) {
  const std::string& path = session.args.operands.front();
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    session.err << "backfilld ctl: submit: cannot read the manifest " << path << "\n";
    return kCtlUsage;
  }
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto manifest = common::parse_json(text);
  if (!manifest || !manifest->IsObject()) {
    session.err << "backfilld ctl: submit: " << path << " is not a JSON object"
                << (manifest ? "" : ": " + manifest.error().message) << "\n";
    return kCtlUsage;
  }
  std::string body = "{\"manifest\":" + common::to_json(*manifest);
  body += std::string(",\"dryRun\":") + (session.args.dry_run ? "true" : "false");
  body += ",\"operator\":";
  common::append_json_string(default_operator(session.args, env), body);
  if (session.args.backup_confirmed) {
    body += ",\"backupConfirmed\":";
    common::append_json_string(*session.args.backup_confirmed, body);
  }
  if (session.args.container) {
    body += ",\"container\":";
    common::append_json_string(*session.args.container, body);
  }
  body += "}";
  auto answer = session.call("POST", "/v1/jobs", body);
  if (!answer) return answer.error();
  if (session.printed_json()) return kCtlOk;
  if (const rapidjson::Value* ids = common::find_member(*answer, "jobs"); ids && ids->IsArray()) {
    session.out << "submitted " << ids->Size() << (session.args.dry_run ? " dry-run" : " live")
                << (ids->Size() == 1 ? " job" : " jobs") << ":\n";
    for (const rapidjson::Value& id : ids->GetArray())
      if (id.IsString()) session.out << id.GetString() << "\n";
  }
  return kCtlOk;
}

int action(Session& session, const common::EnvLookup& env) {
  auto answer = session.call("POST", session.job_path() + "/" + session.args.command,
                             operator_body(default_operator(session.args, env)));
  if (!answer) return answer.error();
  if (session.printed_json()) return kCtlOk;
  session.out << session.args.operands.front() << ": " << session.args.command
              << " requested; state " << field(*answer, "state") << "\n";
  return kCtlOk;
}

int set(Session& session, const common::EnvLookup& env) {
  const std::vector<std::string> assignments(session.args.operands.begin() + 1,
                                             session.args.operands.end());
  auto body = knob_patch_body(assignments, default_operator(session.args, env));
  if (!body) {
    session.err << "backfilld ctl: " << body.error().message << "\n";
    return kCtlUsage;
  }
  auto answer = session.call("PATCH", session.job_path(), *body);
  if (!answer) return answer.error();
  if (!session.printed_json()) print_status(session, *answer);
  return kCtlOk;
}

int report(Session& session) {
  auto answer = session.call("GET", session.job_path() + "/report");
  if (!answer) return answer.error();
  if (session.printed_json() || !answer->IsObject()) return kCtlOk;
  for (const auto& member : answer->GetObject())
    session.out << member.name.GetString() << ": " << field(*answer, member.name.GetString())
                << "\n";
  return kCtlOk;
}

}  // namespace

int ctl_command(const std::vector<std::string>& arguments,
                const common::EnvLookup& env,
                std::ostream& out,
                std::ostream& err) {
  auto args = parse_ctl_args(arguments);
  if (!args) {
    err << "backfilld ctl: " << args.error().message << "\n" << kCtlHelp;
    return kCtlUsage;
  }
  if (args->help) {
    out << kCtlHelp;
    return kCtlOk;
  }
  auto endpoint = parse_endpoint(env("BACKFILLD_URL").value_or("http://127.0.0.1:8080"));
  if (!endpoint) {
    err << "backfilld ctl: " << endpoint.error().message << "\n";
    return kCtlUsage;
  }
  auto token = read_bearer_token(env);
  if (!token) {
    err << "backfilld ctl: " << token.error().message << "\n";
    return kCtlUsage;
  }
  Session session{*endpoint, *token, *args, out, err, {}};
  const std::string& command = args->command;
  if (command == "jobs") return jobs(session);
  if (command == "show") return show(session);
  if (command == "submit") return submit(session, env);
  if (command == "set") return set(session, env);
  if (command == "report") return report(session);
  if (command == "watch") return watch(session);
  return action(session, env);  // pause, resume, stop: parse_ctl_args knows no other
}

}  // namespace backfilld::ctl
