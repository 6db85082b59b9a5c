#include "daemon/jobs/job_state.hpp"

#include <array>
#include <utility>

#include "daemon/common/assert.hpp"

namespace backfilld::jobs {
namespace {

using S = JobState;

/// Every allowed move between two different states, and what makes it.
constexpr std::array<std::pair<JobState, JobState>, 14> kMoves = {{
    {S::kQueued, S::kRunning},     // the scheduler starts it
    {S::kQueued, S::kPaused},      // paused before its first batch
    {S::kQueued, S::kStopped},     // stopped before it ran
    {S::kQueued, S::kFailed},      // its run could not start (transform, checks)
    {S::kRunning, S::kPaused},     // paused at a batch boundary
    {S::kRunning, S::kQueued},     // shutdown or restart: resumes from its checkpoint
    {S::kRunning, S::kSucceeded},  // the last batch
    {S::kRunning, S::kFailed},     // a stop criterion, a failed check, a fatal error
    {S::kRunning, S::kStopped},    // an operator stopped it
    {S::kPaused, S::kRunning},     // resumed while its run waits
    {S::kPaused, S::kQueued},      // resumed with no run, or shut down after a resume
    {S::kPaused, S::kSucceeded},   // (the diagram's paused -> succeeded | failed | stopped)
    {S::kPaused, S::kFailed},
    {S::kPaused, S::kStopped},  // stopped while paused
}};

}  // namespace

bool can_transition(JobState from, JobState to) {
  if (from == to) return !is_terminal(from);
  for (const auto& [allowed_from, allowed_to] : kMoves) {
    if (allowed_from == from && allowed_to == to) return true;
  }
  return false;
}

void transition(Job& job, JobState to) {
  BACKFILLD_ASSERT(can_transition(job.state, to), "job {}: no transition from {} to {}", job.id,
                   to_string(job.state), to_string(to));
  job.state = to;
}

}  // namespace backfilld::jobs
