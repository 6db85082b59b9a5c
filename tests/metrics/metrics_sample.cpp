/// Prints the /metrics text of a daemon mid-migration (two jobs, throttling, conflicts, retries),
/// for `promtool check metrics` (tests/metrics/check_metrics.sh).
#include <chrono>
#include <iostream>

#include "daemon/metrics/metrics.hpp"

namespace {

using backfilld::cosmos::RequestEvent;
using backfilld::cosmos::RetryCause;
using std::chrono::milliseconds;

void record_job_activity(backfilld::metrics::Metrics& metrics) {
  const backfilld::metrics::JobLabels notes{"enc-2024-06-notes", "notes", "enc-2024-06"};
  const backfilld::metrics::JobLabels prompts{"enc-2024-06-note_prompts", "note_prompts",
                                              "enc-2024-06"};

  metrics.set_job_state(notes, "running");
  metrics.add_documents(notes, "scanned", 2000);
  metrics.add_documents(notes, "rewritten", 1890);
  metrics.add_documents(notes, "skipped", 104);
  metrics.add_documents(notes, "error", 1);
  metrics.add_documents(notes, "owner_mismatch", 3);
  metrics.add_documents(notes, "missing_partition_key", 2);
  metrics.add_field_values(notes, "body", "rewritten", 1890);
  metrics.add_field_values(notes, "body", "skipped", 104);
  metrics.add_field_values(notes, "body", "error", 1);
  for (int batch = 0; batch < 20; ++batch) {
    metrics.observe_batch(notes, milliseconds(40 + batch * 35));
  }
  metrics.set_progress(notes, 0.42, 615.5);
  metrics.set_inflight_writes(notes, 32);
  metrics.add_conflicts(notes, 4);

  metrics.set_job_state(prompts, "queued");
  metrics.set_progress(prompts, 0, -1);
  metrics.add_field_values(prompts, "systemPrompt", "skipped", 0);
}

void record_cosmos_requests(backfilld::metrics::Metrics& metrics) {
  auto observe = metrics.request_observer();
  for (int page = 0; page < 20; ++page) {
    observe(RequestEvent{"query", 200, 0, 12.4, milliseconds(18 + page), std::nullopt});
  }
  for (int write = 0; write < 1890; ++write) {
    observe(RequestEvent{"replace", 200, 0, 10.29, milliseconds(4 + write % 9), std::nullopt});
  }
  observe(RequestEvent{"replace", 412, 0, 1.0, milliseconds(3), std::nullopt});
  observe(RequestEvent{"read", 200, 0, 1.0, milliseconds(2), std::nullopt});
  for (int throttled = 0; throttled < 7; ++throttled) {
    observe(RequestEvent{"replace", 429, 3200, 0, milliseconds(1), RetryCause::kThrottled});
  }
  observe(RequestEvent{"query", 503, 0, 0, milliseconds(900), RetryCause::kUnavailable});
  observe(RequestEvent{"replace", 0, 0, 0, milliseconds(30'000), RetryCause::kTransport});
  observe(RequestEvent{"query", 410, 1002, 0, milliseconds(5), RetryCause::kGone});
}

}  // namespace

int main() {
  backfilld::metrics::Metrics metrics;
  metrics.set_build_info(BACKFILLD_VERSION, "9a080b8");
  record_job_activity(metrics);
  record_cosmos_requests(metrics);
  std::cout << metrics.serialize();
  return std::cout.good() ? 0 : 1;
}
