#include "daemon/jobs/job_metrics.hpp"

#include <algorithm>
#include <string>

namespace backfilld::jobs {

metrics::JobLabels job_labels(const Job& job) {
  return metrics::JobLabels{job.id, job.container, job.manifest.id};
}

void report_batch(metrics::Metrics& metrics,
                  const Job& job,
                  const engine::Progress& progress,
                  const engine::BatchReport& batch,
                  std::optional<double> eta_seconds) {
  const auto labels = job_labels(job);
  const engine::Counts& counts = batch.counts;
  metrics.add_documents(labels, "scanned", counts.scanned);
  metrics.add_documents(labels, "rewritten", counts.rewritten);
  metrics.add_documents(labels, "skipped", counts.skipped);
  metrics.add_documents(labels, "error", counts.errors);
  metrics.add_documents(labels, "owner_mismatch", counts.owner_mismatch);
  metrics.add_documents(labels, "missing_partition_key", counts.missing_partition_key);
  const auto fields = job.counted_fields();
  for (std::size_t i = 0; i < fields.size() && i < counts.fields.size(); ++i) {
    metrics.add_field_values(labels, fields[i], "rewritten", counts.fields[i].rewritten);
    metrics.add_field_values(labels, fields[i], "skipped", counts.fields[i].skipped);
    metrics.add_field_values(labels, fields[i], "error", counts.fields[i].errors);
    if (!job.left_name().empty()) {
      metrics.add_field_values(labels, fields[i], std::string(job.left_name()),
                               counts.fields[i].left);
    }
  }
  metrics.observe_batch(labels, batch.elapsed);
  metrics.add_conflicts(labels, batch.conflicts);
  const double ratio = job.estimated_total && *job.estimated_total > 0
                           ? std::min(1.0, static_cast<double>(progress.counts.scanned) /
                                               static_cast<double>(*job.estimated_total))
                           : (progress.finished ? 1.0 : 0.0);
  metrics.set_progress(labels, progress.finished ? 1.0 : ratio,
                       progress.finished ? 0.0 : eta_seconds.value_or(-1.0));
}

}  // namespace backfilld::jobs
