#pragma once
/// The daemon's Prometheus metrics (prometheus-cpp), exposed in text format on /metrics of the
/// control plane's port. Names are pinned: dashboards and alert rules use them.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/cosmos/client.hpp"

namespace prometheus {
class Registry;
}

namespace backfilld::metrics {

/// Label values of one job.
struct JobLabels {
  std::string job;        ///< job id
  std::string container;  ///< container name
  std::string migration;  ///< manifest id
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// backfilld_documents_total{job_id,container,migration,outcome}: outcome is one of scanned,
  /// rewritten, skipped, error, owner_mismatch, missing_partition_key.
  void add_documents(const JobLabels& job, std::string_view outcome, std::uint64_t count);
  /// backfilld_field_values_total{job_id,container,migration,field,outcome}: rewritten, skipped,
  /// error, and the kind's left name where it has one (plaintext, unknown).
  void add_field_values(const JobLabels& job,
                        std::string_view field,
                        std::string_view outcome,
                        std::uint64_t count);
  /// backfilld_job_state{job_id,container,migration,state}: 1 for the current state, 0 for the
  /// others (queued, running, paused, succeeded, failed, stopped).
  void set_job_state(const JobLabels& job, std::string_view state);
  /// backfilld_batch_duration_seconds{job_id,container,migration} histogram.
  void observe_batch(const JobLabels& job, std::chrono::steady_clock::duration duration);
  /// backfilld_job_progress_ratio and backfilld_job_eta_seconds{job_id,container,migration};
  /// a negative eta removes the ETA series (unknown).
  void set_progress(const JobLabels& job, double ratio, double eta_seconds);
  /// backfilld_inflight_writes{job_id,container,migration}.
  void set_inflight_writes(const JobLabels& job, std::int64_t writes);
  /// backfilld_job_ranges{job_id,container,migration,state="scanning|waiting|finished"}.
  void set_ranges(const JobLabels& job,
                  std::size_t scanning,
                  std::size_t waiting,
                  std::size_t finished);
  /// backfilld_job_request_unit_budget, backfilld_job_request_units_per_second,
  /// backfilld_job_ranges_backing_off and backfilld_job_throttle_held{job_id,container,migration}.
  void set_request_units(const JobLabels& job,
                         double budget,
                         double spent_per_second,
                         std::size_t ranges_backing_off,
                         double throttle_held);
  /// backfilld_throttle_signal{source,level}: 1 for each (source, level) in `signals`, else 0.
  void set_throttle_signals(const std::vector<std::pair<std::string, std::string>>& signals);
  /// backfilld_job_conflicts_total{job_id,container,migration}: 412s resolved by re-reading.
  void add_conflicts(const JobLabels& job, std::uint64_t count);

  /// One Cosmos attempt: backfilld_cosmos_requests_total{operation,status},
  /// backfilld_cosmos_request_charge_total{operation} (RU),
  /// backfilld_cosmos_request_duration_seconds{operation} histogram,
  /// backfilld_cosmos_retries_total{operation,cause} when it will be retried, and
  /// backfilld_cosmos_throttled_total{operation} for every 429.
  void record_request(const cosmos::RequestEvent& event);
  /// A RequestObserver that calls record_request, for cosmos::Client::set_observer.
  cosmos::RequestObserver request_observer();

  /// backfilld_build_info{version,commit} 1; backfilld_up 1 (set at construction).
  void set_build_info(std::string_view version, std::string_view commit);

  /// The text exposition format (version 0.0.4) of every metric.
  std::string serialize() const;

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
};

}  // namespace backfilld::metrics
