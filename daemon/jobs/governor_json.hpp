#pragma once
/// The request-unit governor as the API shows it: a job's budgets (its status's `requestUnits`)
/// and the throttle signals (GET /v1/throttle, a job status's `throttle`).
#include <rapidjson/document.h>

#include "daemon/governor/governor.hpp"
#include "daemon/governor/job_governor.hpp"

namespace backfilld::jobs {

/// {"source", "level", "reason", "since", "expires"}.
rapidjson::Value throttle_signal_json(const governor::ThrottleSignal& signal,
                                      rapidjson::Document::AllocatorType& allocator);
/// {"inForce": signal or null, "signals": [...]}.
void to_throttle_json(const governor::Governor& governor,
                      rapidjson::Value& out,
                      rapidjson::Document::AllocatorType& allocator);
/// {"budget", "provisioned", "autoscale", "spentPerSecond", "spentTotal", "throttles",
/// "ranges": [{"id", "limit", "spentPerSecond", "throttles", "backingOff"}]}; RU/s, 0: none.
rapidjson::Value job_budget_json(const governor::JobBudget& budget,
                                 rapidjson::Document::AllocatorType& allocator);

}  // namespace backfilld::jobs
