#include "daemon/jobs/job_state.hpp"

#include <doctest/doctest.h>

#include <set>
#include <utility>

namespace backfilld::jobs {

TEST_CASE("a job moves only along the state machine's table") {
  using S = JobState;
  const std::set<std::pair<S, S>> allowed = {
      {S::kQueued, S::kQueued},  {S::kQueued, S::kRunning},  {S::kQueued, S::kPaused},
      {S::kQueued, S::kStopped}, {S::kQueued, S::kFailed},   {S::kRunning, S::kRunning},
      {S::kRunning, S::kPaused}, {S::kRunning, S::kQueued},  {S::kRunning, S::kSucceeded},
      {S::kRunning, S::kFailed}, {S::kRunning, S::kStopped}, {S::kPaused, S::kPaused},
      {S::kPaused, S::kRunning}, {S::kPaused, S::kQueued},   {S::kPaused, S::kSucceeded},
      {S::kPaused, S::kFailed},  {S::kPaused, S::kStopped},
  };
  const S all[] = {S::kQueued, S::kRunning, S::kPaused, S::kSucceeded, S::kFailed, S::kStopped};
  for (const S from : all) {
    for (const S to : all) {
      CAPTURE(to_string(from));
      CAPTURE(to_string(to));
      CHECK(can_transition(from, to) == allowed.contains({from, to}));
    }
  }
}

TEST_CASE("nothing leaves a terminal state, and a queued job never succeeds without running") {
  for (const JobState done : {JobState::kSucceeded, JobState::kFailed, JobState::kStopped}) {
    for (const JobState to : {JobState::kQueued, JobState::kRunning, JobState::kPaused, done}) {
      CHECK_FALSE(can_transition(done, to));
    }
  }
  CHECK_FALSE(can_transition(JobState::kQueued, JobState::kSucceeded));
  Job job;
  transition(job, JobState::kRunning);
  transition(job, JobState::kPaused);
  transition(job, JobState::kRunning);
  transition(job, JobState::kSucceeded);
  CHECK(job.state == JobState::kSucceeded);
}

}  // namespace backfilld::jobs
