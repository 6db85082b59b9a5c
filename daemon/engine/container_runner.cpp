#include "daemon/engine/container_runner.hpp"

#include <spdlog/spdlog.h>

#include "daemon/common/json.hpp"
#include "daemon/engine/prefetch.hpp"

namespace backfilld::engine {
namespace {

std::string parameters_for(const std::optional<std::string>& product_id) {
  if (!product_id) return "[]";
  std::string json = R"([{"name":"@productId","value":)";
  common::append_json(
      rapidjson::Value(rapidjson::StringRef(product_id->data(), product_id->size())), json);
  json += "}]";
  return json;
}

std::string_view id_of(const rapidjson::Value& document) {
  return common::string_member(document, "id").value_or(std::string_view());
}

}  // namespace

ContainerRunner::ContainerRunner(cosmos::DocumentStore& store,
                                 const migrations::Transform& transform,
                                 RunTarget target,
                                 const RunSettings& settings,
                                 const Clock& clock,
                                 RunHooks hooks,
                                 Progress start,
                                 governor::JobGovernor* governor)
    : retry_scope_([this] { return interrupted(); }, clock),
      base_store_(store),
      governor_(governor),
      scoped_store_(store.with_retry_scope(retry_scope_, nullptr)),
      store_(scoped_store_ ? *scoped_store_ : store),
      transform_(transform),
      target_(std::move(target)),
      settings_(settings),
      clock_(clock),
      hooks_(std::move(hooks)),
      copy_(transform.copy_destination()),
      write_container_(copy_ == nullptr
                           ? target_.container
                           : cosmos::ContainerRef{target_.container.database, copy_->container}),
      writer_(store_, transform, write_container_, settings, target_.job_label, retry_scope_),
      progress_(std::move(start)),
      observed_(progress_.counts),
      partition_key_pointer_(copy_ == nullptr ? target_.partition_key_path.c_str()
                                              : copy_->partition_key_path.c_str()),
      query_parameters_(parameters_for(target_.product_id)) {
  if (progress_.counts.fields.size() < transform_.fields().size()) {
    progress_.counts.fields.resize(transform_.fields().size());
    observed_ = progress_.counts;
  }
}

std::unique_ptr<cosmos::DocumentStore> ContainerRunner::range_view(const std::string& range_id) {
  if (governor_ == nullptr) return nullptr;
  return base_store_.with_retry_scope(retry_scope_, &governor_->range(range_id));
}

net::awaitable<void> ContainerRunner::refresh_throughput() {
  if (governor_ == nullptr || refreshing_throughput_ || !governor_->offer_due()) co_return;
  refreshing_throughput_ = true;
  governor_->offer_read();
  auto throughput = co_await store_.read_throughput(target_.container);
  if (throughput) {
    governor_->set_layout(*throughput, progress_.ranges.size());
  } else {
    // Serverless, shared throughput the store cannot tell, or a store without offers: the
    // budget knobs that need it wait, everything else goes on.
    spdlog::log(throughput.error().status == 404 ? spdlog::level::info : spdlog::level::warn,
                "{}: provisioned throughput unknown: {}", target_.job_label,
                cosmos::describe(throughput.error()));
    governor_->set_layout(std::nullopt, progress_.ranges.size());
  }
  refreshing_throughput_ = false;
}

net::awaitable<cosmos::Result<cosmos::QueryPage>> ContainerRunner::fetch_page(
    RangePosition position, cosmos::DocumentStore& store) {
  cosmos::QueryRequest request{
      .container = target_.container,
      .query =
          target_.product_id ? "SELECT * FROM c WHERE c.productId = @productId" : "SELECT * FROM c",
      .parameters_json = query_parameters_,
      .max_item_count = static_cast<int>(std::max<std::uint32_t>(1, settings_.batch_size)),
      .continuation = std::move(position.continuation)};
  if (position.pinned()) {
    request.partition_key_range_id = position.range_id;
    if (position.partial) {
      request.start_epk = position.min_inclusive;
      request.end_epk = position.max_exclusive;
    }
  }
  co_return co_await store.query_documents(request);
}

void ContainerRunner::wake() {
  for (common::Timer* timer : pacing_timers_) timer->cancel();
  retry_scope_.wake();
  if (governor_ != nullptr) governor_->wake();
  notify_supervisor();  // a changed rangeConcurrency starts or gives back scans
}

std::string ContainerRunner::waiting_reason() const {
  if (!waiting_reason_.empty()) return waiting_reason_;
  if (governor_ != nullptr && !governor_->waiting_reason().empty()) {
    return governor_->waiting_reason();
  }
  return retry_scope_.describe();
}

net::awaitable<void> ContainerRunner::pace(const BatchReport& last_batch) {
  const auto spent = clock_.monotonic_now();
  document_limiter_.spend(static_cast<double>(last_batch.counts.scanned),
                          settings_.max_documents_per_second, spent);
  // The wait is recomputed whenever it is woken: a PATCH of the rate applies to what is owed
  // now (raised: the wait ends sooner; lowered: it lasts longer), a pause or stop ends it. The
  // limiter is the run's: every range's scan pays into it and waits on it. Request units are
  // not paced here but admitted request by request (governor::JobGovernor).
  std::unique_ptr<common::Timer> timer;
  while (!interrupted() && !outcome_) {
    const auto now = clock_.monotonic_now();
    const auto wait = document_limiter_.wait(settings_.max_documents_per_second, now);
    if (wait <= std::chrono::steady_clock::duration::zero()) break;
    waiting_reason_ =
        fmt::format("rate limit: {:g} documents/s", settings_.max_documents_per_second);
    if (!timer) timer = clock_.make_timer(co_await net::this_coro::executor);
    pacing_timers_.insert(timer.get());
    const boost::system::error_code woken = co_await timer->wait_until(now + wait);
    pacing_timers_.erase(timer.get());
    if (woken != net::error::operation_aborted) break;  // waited in full
    ++pacing_waits_cut_;
  }
  if (pacing_timers_.empty()) waiting_reason_.clear();
}

net::awaitable<RunOutcome> ContainerRunner::run() {
  started_ = clock_.monotonic_now();
  scanned_at_start_ = progress_.counts.scanned;
  const auto executor = co_await net::this_coro::executor;
  supervisor_signal_.emplace(executor, net::steady_timer::time_point::max());
  hold_signal_.emplace(executor, net::steady_timer::time_point::max());
  if (!progress_.finished && !co_await plan_ranges()) {
    co_return RunOutcome{RunStatus::kStopped, "interrupted while reading the partition key ranges"};
  }
  co_await refresh_throughput();
  co_return co_await supervise();
}

net::awaitable<bool> ContainerRunner::plan_ranges() {
  if (!progress_.ranges.empty()) co_return true;
  auto ranges = co_await store_.read_partition_key_ranges(target_.container);
  if (ranges && !ranges->empty()) {
    progress_.ranges = initial_positions(*ranges);
    spdlog::info("{}: {} partition key ranges, {} scanned at once", target_.job_label,
                 ranges->size(),
                 std::min<std::size_t>(ranges->size(), settings_.range_concurrency));
    co_return true;
  }
  if (!ranges && cosmos::retry_cause(ranges.error().status) && interrupted()) co_return false;
  // The store cannot list ranges: the whole container as one cross-partition query.
  spdlog::warn("{}: {}; scanning the container as one cross-partition query", target_.job_label,
               ranges ? "no partition key ranges listed"
                      : "partition key ranges unknown: " + cosmos::describe(ranges.error()));
  progress_.ranges = {RangePosition{}};
  co_return true;
}

std::optional<PendingWrite> ContainerRunner::prepare_write(
    const rapidjson::Value& document, migrations::TransformResult result) const {
  const std::string_view id = id_of(document);
  const rapidjson::Value* key_value = partition_key_pointer_.Get(document);
  if (id.empty() || key_value == nullptr) {
    spdlog::error("{}: rewritten document has no id or partition key; not written",
                  target_.job_label);
    return std::nullopt;
  }
  PendingWrite write;
  // A copy is an upsert keyed by id and the new key: a rerun rewrites the same copy.
  write.operation = cosmos::WriteOperation{
      .kind = copy_ == nullptr ? cosmos::WriteOperation::Kind::kReplace
                               : cosmos::WriteOperation::Kind::kUpsert,
      .id = std::string(id),
      .key = cosmos::PartitionKey::of(*key_value),
      .body = common::to_json(document),
      .if_match = copy_ == nullptr
                      ? std::string(common::string_member(document, "_etag").value_or(""))
                      : std::string()};
  write.result = std::move(result);
  write.written = &document;
  return write;
}

void ContainerRunner::log_batch(const BatchReport& report) const {
  const auto& counts = progress_.counts;
  const double seconds = std::chrono::duration<double>(clock_.monotonic_now() - started_).count();
  const double rate =
      seconds > 0 ? static_cast<double>(counts.scanned - scanned_at_start_) / seconds : 0.0;
  spdlog::info(
      "{}: batch {} ({} docs, {:.0f} ms{}{}) scanned={} {}={} skipped={} errors={} "
      "ownerMismatch={} missingPartitionKey={} rate={:.0f} docs/s{}",
      target_.job_label, progress_.batches, report.counts.scanned,
      std::chrono::duration<double, std::milli>(report.elapsed).count(),
      report.range_id.empty() ? "" : fmt::format(", range {}", report.range_id),
      report.conflicts > 0 ? fmt::format(", {} conflicts re-read", report.conflicts) : "",
      counts.scanned, target_.rewritten_name, counts.rewritten, counts.skipped, counts.errors,
      counts.owner_mismatch, counts.missing_partition_key, rate,
      target_.mode == migrations::Mode::kDryRun ? " (dry run)" : "");
}

}  // namespace backfilld::engine
