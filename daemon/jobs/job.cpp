#include "daemon/jobs/job.hpp"

#include <array>
#include <utility>

#include "migrations/kind.hpp"

namespace backfilld::jobs {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 6> kStateNames = {{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kPaused, "paused"},
    {JobState::kSucceeded, "succeeded"},
    {JobState::kFailed, "failed"},
    {JobState::kStopped, "stopped"},
}};

}  // namespace

std::string_view to_string(JobState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (const auto& [value, name] : kStateNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool is_terminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed || state == JobState::kStopped;
}

KindFacts kind_facts(std::string_view kind) {
  const migrations::KindInfo* info = migrations::find_kind_info(kind);
  if (info == nullptr) return {};
  return KindFacts{.rewritten_name = info->rewritten_name,
                   .left_name = info->left_name,
                   .needs_keys = info->needs_keys,
                   .writes = info->writes};
}

std::string_view Job::rewritten_name() const { return kind_facts(manifest.kind).rewritten_name; }

std::string_view Job::left_name() const { return kind_facts(manifest.kind).left_name; }

std::vector<std::string> Job::counted_fields() const {
  const migrations::Kind* kind = migrations::find_kind(manifest.kind);
  return kind != nullptr ? kind->counted_fields(spec()) : std::vector<std::string>{};
}

}  // namespace backfilld::jobs
