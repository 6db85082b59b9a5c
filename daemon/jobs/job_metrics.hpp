#pragma once
/// A job's figures in the metrics registry: its labels, and what each batch adds (documents and
/// values per outcome, batch time, conflicts, progress and ETA).
#include <optional>

#include "daemon/engine/container_runner.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/metrics/metrics.hpp"

namespace backfilld::jobs {

/// The labels of every series of `job`.
metrics::JobLabels job_labels(const Job& job);

/// After a batch: adds the batch's counts and time to the job's series and sets its progress
/// ratio and ETA (`eta_seconds` from the live rate; none: -1).
void report_batch(metrics::Metrics& metrics,
                  const Job& job,
                  const engine::Progress& progress,
                  const engine::BatchReport& batch,
                  std::optional<double> eta_seconds);

}  // namespace backfilld::jobs
