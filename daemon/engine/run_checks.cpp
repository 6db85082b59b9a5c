#include "daemon/engine/run_checks.hpp"

#include "daemon/common/json.hpp"
#include "migrations/kind.hpp"

namespace backfilld::engine {

net::awaitable<CheckReport> check_before_run(cosmos::DocumentStore& store, CheckTarget target) {
  const migrations::Kind* kind = migrations::find_kind(target.manifest.kind);
  if (kind == nullptr) co_return CheckReport{};
  co_return co_await kind->before_scan(store, target);
}

net::awaitable<CheckReport> check_after_run(cosmos::DocumentStore& store,
                                            CheckTarget target,
                                            const Counts& counts) {
  const migrations::Kind* kind = migrations::find_kind(target.manifest.kind);
  if (kind == nullptr) co_return CheckReport{};
  co_return co_await kind->after_scan(store, target, counts);
}

net::awaitable<RunOutcome> run_with_checks(cosmos::DocumentStore& store,
                                           ContainerRunner& runner,
                                           const CheckTarget& target,
                                           CheckReport& checks) {
  // A check whose request was still being retried when the run was interrupted (pause, stop,
  // shutdown) did not fail: the job stops here and runs its checks again when it resumes.
  const auto ended = [&](std::string failure) {
    return runner.interrupted()
               ? RunOutcome{RunStatus::kStopped, "interrupted during the checks: " + failure}
               : RunOutcome{RunStatus::kFailed, std::move(failure)};
  };
  checks = co_await check_before_run(store, target);
  if (!checks.failure.empty()) co_return ended(checks.failure);
  RunOutcome outcome = co_await runner.run();
  if (outcome.status != RunStatus::kSucceeded) co_return outcome;
  CheckReport after = co_await check_after_run(store, target, runner.observed());
  checks.figures.insert(checks.figures.end(), after.figures.begin(), after.figures.end());
  checks.failure = std::move(after.failure);
  if (!checks.failure.empty()) outcome = ended(checks.failure);
  co_return outcome;
}

rapidjson::Value check_report_to_json(const CheckReport& report,
                                      rapidjson::Document::AllocatorType& allocator) {
  rapidjson::Value json(rapidjson::kObjectType);
  rapidjson::Value figures(rapidjson::kObjectType);
  for (const auto& [name, value] : report.figures) {
    figures.AddMember(rapidjson::Value(name.c_str(), allocator), rapidjson::Value(value),
                      allocator);
  }
  json.AddMember("figures", figures, allocator);
  json.AddMember("failure",
                 report.failure.empty() ? rapidjson::Value()
                                        : rapidjson::Value(report.failure.c_str(), allocator),
                 allocator);
  return json;
}

CheckReport check_report_from_json(const rapidjson::Value& json) {
  CheckReport report;
  if (const auto* figures = common::find_member(json, "figures"); figures && figures->IsObject()) {
    for (const auto& member : figures->GetObject()) {
      if (member.value.IsUint64()) {
        report.figures.emplace_back(member.name.GetString(), member.value.GetUint64());
      }
    }
  }
  report.failure = std::string(common::string_member(json, "failure").value_or(""));
  return report;
}

}  // namespace backfilld::engine
