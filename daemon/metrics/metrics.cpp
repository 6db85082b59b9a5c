#include "daemon/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <cassert>
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

namespace backfilld::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

constexpr std::array<std::string_view, 6> kDocumentOutcomes = {
    "scanned", "rewritten", "skipped", "error", "owner_mismatch", "missing_partition_key"};
constexpr std::array<std::string_view, 6> kJobStates = {"queued",    "running", "paused",
                                                        "succeeded", "failed",  "stopped"};
constexpr std::array<cosmos::RetryCause, 6> kRetryCauses = {
    cosmos::RetryCause::kThrottled,      cosmos::RetryCause::kRetryWith,
    cosmos::RetryCause::kRequestTimeout, cosmos::RetryCause::kUnavailable,
    cosmos::RetryCause::kGone,           cosmos::RetryCause::kTransport};

// A batch reads a page and writes it back: milliseconds against the emulator, up to a minute
// under heavy throttling.
const Histogram::BucketBoundaries kBatchBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                   1,     2.5,  5,     10,   30,  60};
// One Cosmos attempt: a point read is ~1 ms in-region; the client gives up at its timeout.
const Histogram::BucketBoundaries kRequestBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1,     2.5,  5,     10};

double seconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

Labels with(Labels labels, std::string_view name, std::string_view value) {
  labels.emplace(std::string(name), std::string(value));
  return labels;
}

struct JobLess {
  bool operator()(const JobLabels& a, const JobLabels& b) const {
    return std::tie(a.job, a.container, a.migration) < std::tie(b.job, b.container, b.migration);
  }
};

template <class T>
using ByName = std::map<std::string, T, std::less<>>;

// The series of one job, created on first use. Pointers stay valid until Family::Remove.
struct JobSeries {
  Labels labels;
  ByName<Counter*> documents;
  ByName<ByName<Counter*>> field_values;  // field -> outcome
  std::array<Gauge*, kJobStates.size()> states{};
  Histogram* batch_duration = nullptr;
  Gauge* progress = nullptr;
  Gauge* eta = nullptr;
  Gauge* inflight_writes = nullptr;
  std::array<Gauge*, 3> ranges{};  // scanning, waiting, finished
  Counter* conflicts = nullptr;
  std::array<Gauge*, 4> budget{};  // budget, spent, ranges backing off, held by a throttle
};

// The series of one Cosmos operation ("query", "replace", ...).
struct OperationSeries {
  std::map<int, Counter*> requests;  // by HTTP status
  std::map<cosmos::RetryCause, Counter*> retries;
  Counter* request_charge = nullptr;
  Histogram* request_duration = nullptr;
  Counter* throttled = nullptr;
};

}  // namespace

struct Metrics::Families {
  explicit Families(prometheus::Registry& registry)
      : documents(prometheus::BuildCounter()
                      .Name("backfilld_documents_total")
                      .Help("Documents a job has processed, by outcome: scanned, rewritten, "
                            "skipped, error, owner_mismatch, missing_partition_key.")
                      .Register(registry)),
        field_values(prometheus::BuildCounter()
                         .Name("backfilld_field_values_total")
                         .Help("Values of a mapped field a job has processed, by outcome: "
                               "rewritten, skipped, error.")
                         .Register(registry)),
        job_state(prometheus::BuildGauge()
                      .Name("backfilld_job_state")
                      .Help("1 for the job's current state, 0 for the others (queued, running, "
                            "paused, succeeded, failed, stopped).")
                      .Register(registry)),
        batch_duration(prometheus::BuildHistogram()
                           .Name("backfilld_batch_duration_seconds")
                           .Help("Time to process one batch: read, transform, write, checkpoint.")
                           .Register(registry)),
        progress(prometheus::BuildGauge()
                     .Name("backfilld_job_progress_ratio")
                     .Help("Estimated fraction of the job's documents processed, 0 to 1.")
                     .Register(registry)),
        eta(prometheus::BuildGauge()
                .Name("backfilld_job_eta_seconds")
                .Help("Estimated seconds until the job finishes; absent while unknown.")
                .Register(registry)),
        inflight_writes(prometheus::BuildGauge()
                            .Name("backfilld_inflight_writes")
                            .Help("Document writes a job has sent and not yet seen answered.")
                            .Register(registry)),
        ranges(prometheus::BuildGauge()
                   .Name("backfilld_job_ranges")
                   .Help("A job's partition key ranges by state: scanning now, waiting for a "
                         "scan slot (rangeConcurrency), finished (a range that split counts "
                         "once, as its children).")
                   .Register(registry)),
        conflicts(prometheus::BuildCounter()
                      .Name("backfilld_job_conflicts_total")
                      .Help("Writes that hit 412 (the document changed) and were resolved by "
                            "re-reading it.")
                      .Register(registry)),
        requests(prometheus::BuildCounter()
                     .Name("backfilld_cosmos_requests_total")
                     .Help("Cosmos DB request attempts, by operation and HTTP status (0: "
                           "transport failure).")
                     .Register(registry)),
        request_charge(prometheus::BuildCounter()
                           .Name("backfilld_cosmos_request_charge_total")
                           .Help("Request units (RU) Cosmos DB charged, by operation.")
                           .Register(registry)),
        request_duration(prometheus::BuildHistogram()
                             .Name("backfilld_cosmos_request_duration_seconds")
                             .Help("Duration of one Cosmos DB request attempt, by operation.")
                             .Register(registry)),
        retries(prometheus::BuildCounter()
                    .Name("backfilld_cosmos_retries_total")
                    .Help("Cosmos DB attempts that will be retried, by operation and cause.")
                    .Register(registry)),
        throttled(prometheus::BuildCounter()
                      .Name("backfilld_cosmos_throttled_total")
                      .Help("Cosmos DB attempts answered 429 (request rate too large), by "
                            "operation.")
                      .Register(registry)),
        build_info(prometheus::BuildGauge()
                       .Name("backfilld_build_info")
                       .Help("Always 1; the labels name the daemon's version and build commit.")
                       .Register(registry)),
        up(prometheus::BuildGauge()
               .Name("backfilld_up")
               .Help("Always 1 while the daemon serves metrics.")
               .Register(registry)),
        ru_budget(prometheus::BuildGauge()
                      .Name("backfilld_job_request_unit_budget")
                      .Help("RU/s a job may spend now: its maxRequestUnitsPerSecond, its "
                            "maxThroughputFraction of the provisioned throughput, or a crawl "
                            "under a slow throttle signal; 0: no limit.")
                      .Register(registry)),
        ru_spent(prometheus::BuildGauge()
                     .Name("backfilld_job_request_units_per_second")
                     .Help("RU/s a job spent over the last 10 seconds (every request's charge).")
                     .Register(registry)),
        ranges_backing_off(prometheus::BuildGauge()
                               .Name("backfilld_job_ranges_backing_off")
                               .Help("A job's partition key ranges below their share after "
                                     "429s (adaptive backoff).")
                               .Register(registry)),
        throttle_held(prometheus::BuildGauge()
                          .Name("backfilld_job_throttle_held")
                          .Help("1 while a `pause` throttle signal holds the job (no new "
                                "batch), 0.5 while a `slow` one makes it crawl, else 0.")
                          .Register(registry)),
        throttle_signal(prometheus::BuildGauge()
                            .Name("backfilld_throttle_signal")
                            .Help("1 for each throttle signal in force, by source (api, "
                                  "flag_file, query) and level (slow, pause).")
                            .Register(registry)) {}

  // Finds or creates the job's series; the caller holds `mutex`.
  JobSeries& job(const JobLabels& labels) {
    auto found = jobs.find(labels);
    if (found != jobs.end()) return found->second;
    JobSeries& series = jobs[labels];
    series.labels = {
        {"job_id", labels.job}, {"container", labels.container}, {"migration", labels.migration}};
    // Every outcome exists from the start at 0, so increase() and alerts see the first error.
    for (auto outcome : kDocumentOutcomes) {
      series.documents.emplace(outcome, &documents.Add(with(series.labels, "outcome", outcome)));
    }
    series.conflicts = &conflicts.Add(series.labels);
    return series;
  }

  // Finds or creates the operation's series; the caller holds `mutex`.
  OperationSeries& operation(std::string_view name) {
    auto found = operations.find(name);
    if (found != operations.end()) return found->second;
    OperationSeries& series = operations[std::string(name)];
    const Labels labels = {{"operation", std::string(name)}};
    series.request_charge = &request_charge.Add(labels);
    series.request_duration = &request_duration.Add(labels, kRequestBuckets);
    series.throttled = &throttled.Add(labels);
    for (auto cause : kRetryCauses) {
      series.retries.emplace(cause, &retries.Add(with(labels, "cause", cosmos::to_string(cause))));
    }
    return series;
  }

  Family<Counter>& documents;
  Family<Counter>& field_values;
  Family<Gauge>& job_state;
  Family<Histogram>& batch_duration;
  Family<Gauge>& progress;
  Family<Gauge>& eta;
  Family<Gauge>& inflight_writes;
  Family<Gauge>& ranges;
  Family<Counter>& conflicts;
  Family<Counter>& requests;
  Family<Counter>& request_charge;
  Family<Histogram>& request_duration;
  Family<Counter>& retries;
  Family<Counter>& throttled;
  Family<Gauge>& build_info;
  Family<Gauge>& up;
  Family<Gauge>& ru_budget;
  Family<Gauge>& ru_spent;
  Family<Gauge>& ranges_backing_off;
  Family<Gauge>& throttle_held;
  Family<Gauge>& throttle_signal;

  // Guards the caches below (the families and series lock themselves).
  std::mutex mutex;
  std::map<JobLabels, JobSeries, JobLess> jobs;
  ByName<OperationSeries> operations;
  Gauge* build_info_series = nullptr;
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)) {
  families_->up.Add({}).Set(1);
}

Metrics::~Metrics() = default;

void Metrics::add_documents(const JobLabels& job, std::string_view outcome, std::uint64_t count) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  auto found = series.documents.find(outcome);
  if (found == series.documents.end()) {
    found =
        series.documents
            .emplace(outcome, &families_->documents.Add(with(series.labels, "outcome", outcome)))
            .first;
  }
  found->second->Increment(static_cast<double>(count));
}

void Metrics::add_field_values(const JobLabels& job,
                               std::string_view field,
                               std::string_view outcome,
                               std::uint64_t count) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  auto by_field = series.field_values.find(field);
  if (by_field == series.field_values.end()) {
    by_field = series.field_values.emplace(field, ByName<Counter*>{}).first;
  }
  auto found = by_field->second.find(outcome);
  if (found == by_field->second.end()) {
    auto labels = with(with(series.labels, "field", field), "outcome", outcome);
    found = by_field->second.emplace(outcome, &families_->field_values.Add(labels)).first;
  }
  found->second->Increment(static_cast<double>(count));
}

void Metrics::set_job_state(const JobLabels& job, std::string_view state) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  if (series.states.front() == nullptr) {
    for (std::size_t i = 0; i < kJobStates.size(); ++i) {
      series.states[i] = &families_->job_state.Add(with(series.labels, "state", kJobStates[i]));
    }
  }
  bool known = false;
  for (std::size_t i = 0; i < kJobStates.size(); ++i) {
    const bool current = kJobStates[i] == state;
    known = known || current;
    series.states[i]->Set(current ? 1 : 0);
  }
  assert(known && "set_job_state: not one of the six job states");
  (void)known;
}

void Metrics::observe_batch(const JobLabels& job, std::chrono::steady_clock::duration duration) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  if (series.batch_duration == nullptr) {
    series.batch_duration = &families_->batch_duration.Add(series.labels, kBatchBuckets);
  }
  series.batch_duration->Observe(seconds(duration));
}

void Metrics::set_progress(const JobLabels& job, double ratio, double eta_seconds) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  if (series.progress == nullptr) series.progress = &families_->progress.Add(series.labels);
  series.progress->Set(ratio);
  if (std::isfinite(eta_seconds) && eta_seconds >= 0) {
    if (series.eta == nullptr) series.eta = &families_->eta.Add(series.labels);
    series.eta->Set(eta_seconds);
  } else if (series.eta != nullptr) {
    // No series at all, so Grafana shows "no data" instead of a stale or made-up number.
    families_->eta.Remove(series.eta);
    series.eta = nullptr;
  }
}

void Metrics::set_inflight_writes(const JobLabels& job, std::int64_t writes) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  if (series.inflight_writes == nullptr) {
    series.inflight_writes = &families_->inflight_writes.Add(series.labels);
  }
  series.inflight_writes->Set(static_cast<double>(writes));
}

void Metrics::set_ranges(const JobLabels& job,
                         std::size_t scanning,
                         std::size_t waiting,
                         std::size_t finished) {
  static constexpr std::array<const char*, 3> kStates = {"scanning", "waiting", "finished"};
  const std::array<std::size_t, 3> values = {scanning, waiting, finished};
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    if (series.ranges[i] == nullptr) {
      series.ranges[i] = &families_->ranges.Add(with(series.labels, "state", kStates[i]));
    }
    series.ranges[i]->Set(static_cast<double>(values[i]));
  }
}

void Metrics::set_request_units(const JobLabels& job,
                                double budget,
                                double spent_per_second,
                                std::size_t ranges_backing_off,
                                double throttle_held) {
  std::lock_guard lock(families_->mutex);
  JobSeries& series = families_->job(job);
  const std::array<Family<Gauge>*, 4> families = {&families_->ru_budget, &families_->ru_spent,
                                                  &families_->ranges_backing_off,
                                                  &families_->throttle_held};
  const std::array<double, 4> values = {budget, spent_per_second,
                                        static_cast<double>(ranges_backing_off), throttle_held};
  for (std::size_t i = 0; i < families.size(); ++i) {
    if (series.budget[i] == nullptr) series.budget[i] = &families[i]->Add(series.labels);
    series.budget[i]->Set(values[i]);
  }
}

void Metrics::set_throttle_signals(
    const std::vector<std::pair<std::string, std::string>>& signals) {
  static constexpr std::array<const char*, 3> kSources = {"api", "flag_file", "query"};
  static constexpr std::array<const char*, 2> kLevels = {"slow", "pause"};
  std::lock_guard lock(families_->mutex);
  for (const char* source : kSources) {
    for (const char* level : kLevels) {
      const bool on =
          std::find(signals.begin(), signals.end(),
                    std::pair<std::string, std::string>(source, level)) != signals.end();
      families_->throttle_signal.Add({{"source", source}, {"level", level}}).Set(on ? 1 : 0);
    }
  }
}

void Metrics::add_conflicts(const JobLabels& job, std::uint64_t count) {
  std::lock_guard lock(families_->mutex);
  families_->job(job).conflicts->Increment(static_cast<double>(count));
}

void Metrics::record_request(const cosmos::RequestEvent& event) {
  std::lock_guard lock(families_->mutex);
  OperationSeries& series = families_->operation(event.operation);
  auto requests = series.requests.find(event.status);
  if (requests == series.requests.end()) {
    const Labels labels = {{"operation", std::string(event.operation)},
                           {"status", std::to_string(event.status)}};
    requests = series.requests.emplace(event.status, &families_->requests.Add(labels)).first;
  }
  requests->second->Increment();
  if (event.request_charge > 0) series.request_charge->Increment(event.request_charge);
  series.request_duration->Observe(seconds(event.duration));
  if (event.retry) {
    auto retries = series.retries.find(*event.retry);
    if (retries == series.retries.end()) {
      const Labels labels = {{"operation", std::string(event.operation)},
                             {"cause", std::string(cosmos::to_string(*event.retry))}};
      retries = series.retries.emplace(*event.retry, &families_->retries.Add(labels)).first;
    }
    retries->second->Increment();
  }
  if (event.status == 429) series.throttled->Increment();
}

cosmos::RequestObserver Metrics::request_observer() {
  // The client holding the observer must not outlive this Metrics.
  return [this](const cosmos::RequestEvent& event) { record_request(event); };
}

void Metrics::set_build_info(std::string_view version, std::string_view commit) {
  std::lock_guard lock(families_->mutex);
  // One build_info series at a time: a second call replaces the first.
  if (families_->build_info_series != nullptr) {
    families_->build_info.Remove(families_->build_info_series);
  }
  families_->build_info_series = &families_->build_info.Add(
      {{"version", std::string(version)}, {"commit", std::string(commit)}});
  families_->build_info_series->Set(1);
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace backfilld::metrics
