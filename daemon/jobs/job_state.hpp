#pragma once
/// One job's state machine: queued -> running <-> paused -> succeeded | failed | stopped, plus
/// the moves a shutdown, a restart, an operator or a failed start make (the table in
/// job_state.cpp). Every change of a job's state goes through `transition`; a move the table
/// does not allow can only be a bug and aborts.
#include "daemon/jobs/job.hpp"

namespace backfilld::jobs {

/// True when a job may move from `from` to `to`. Staying in a state that is not terminal is
/// allowed (a no-op); nothing leaves a terminal state.
bool can_transition(JobState from, JobState to);

/// Sets `job.state` to `to`; aborts (BACKFILLD_ASSERT) when the table does not allow it.
void transition(Job& job, JobState to);

}  // namespace backfilld::jobs
