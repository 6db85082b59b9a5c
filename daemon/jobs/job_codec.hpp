#pragma once
/// Jobs as JSON: the state file a checkpoint writes (and a restart reads), the status the API
/// shows, and the release record of the plan's step 8. None of them holds plaintext or keys.
#include <rapidjson/document.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/common/result.hpp"
#include "daemon/governor/job_governor.hpp"
#include "daemon/jobs/job.hpp"

namespace backfilld::jobs {

/// The job's persistent state: manifest, knobs, checkpoint (continuation, counts), times.
std::string to_state_json(const Job& job);

/// Reads a state file back; errors (code invalid_state) name the member at fault, including
/// values no running daemon writes (knobs out of range, a continuation no header can carry).
common::Result<Job> from_state_json(std::string_view json);

/// Counts of `job` (as of any point of its run) in the shape the status and the state file use.
rapidjson::Value to_counts_json(const Job& job,
                                const engine::Counts& counts,
                                rapidjson::Document::AllocatorType& allocator);

/// What only a live daemon knows about a job.
struct JobLive {
  engine::Counts observed;     ///< counts including a batch that crossed a stop criterion
  double rate_per_second = 0;  ///< documents scanned per second in this run
  std::optional<double> eta_seconds;
  std::string waiting;  ///< why it is not making progress right now, or ""
  std::size_t inflight_writes = 0;
  bool pause_requested = false;
  bool stop_requested = false;
  std::set<std::string> active_ranges;               ///< keys of the ranges being scanned right now
  std::vector<engine::RangePosition> ranges;         ///< every range's position as of now
  std::optional<governor::JobBudget> budget;         ///< the run's request-unit budgets, once run
  std::optional<governor::ThrottleSignal> throttle;  ///< the signal holding it back, if any
};

/// GET /v1/jobs/{id}: state, counts per field, progress, rate, ETA, waiting reason, knobs.
void to_status_json(const Job& job,
                    const JobLive& live,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator);

/// GET /v1/jobs/{id} of a job set aside at start: failed, the reason and where its file went.
void to_status_json(const SetAsideJob& job,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator);

/// GET /v1/jobs/{id}/report: the release record. `dry_run` is the dry run a live job relied on.
void to_report_json(const Job& job,
                    const Job* dry_run,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator);

}  // namespace backfilld::jobs
