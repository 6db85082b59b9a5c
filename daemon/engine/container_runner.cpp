#include "daemon/engine/container_runner.hpp"

#include <spdlog/spdlog.h>

#include "daemon/common/json.hpp"

namespace backfilld::engine {
namespace {

using migrations::Mode;
using migrations::Outcome;
using migrations::TransformResult;

constexpr rapidjson::SizeType kDocumentsBetweenYields = 64;

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
                                 Progress start)
    : retry_scope_([this] { return interrupted(); }, clock),
      scoped_store_(store.with_retry_scope(retry_scope_)),
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

net::awaitable<cosmos::Result<cosmos::QueryPage>> ContainerRunner::fetch_page(
    std::string continuation) {
  cosmos::QueryRequest request{
      .container = target_.container,
      .query =
          target_.product_id ? "SELECT * FROM c WHERE c.productId = @productId" : "SELECT * FROM c",
      .parameters_json = query_parameters_,
      .max_item_count = static_cast<int>(std::max<std::uint32_t>(1, settings_.batch_size)),
      .continuation = std::move(continuation)};
  co_return co_await store_.query_documents(request);
}

/// The next page, fetched in the background while the current one is written.
class ContainerRunner::Prefetch {
 public:
  explicit Prefetch(ContainerRunner& runner) : runner_(runner) {}

  void start(net::any_io_executor executor, std::string continuation) {
    running_ = true;
    page_.reset();
    done_.emplace(executor, net::steady_timer::time_point::max());
    net::co_spawn(
        executor,
        [this, continuation = std::move(continuation)]() mutable -> net::awaitable<void> {
          page_.emplace(co_await runner_.fetch_page(std::move(continuation)));
        },
        [this](std::exception_ptr error) {
          failure_ = error;
          running_ = false;
          done_->cancel();
        });
  }

  bool started() const { return done_.has_value(); }

  /// Waits for the fetch to end (a run never leaves while one is in flight).
  net::awaitable<void> drain() {
    if (!running_) co_return;
    boost::system::error_code done;
    co_await done_->async_wait(net::redirect_error(net::use_awaitable, done));
  }

  /// The fetched page; the next start() begins another.
  net::awaitable<cosmos::Result<cosmos::QueryPage>> take() {
    co_await drain();
    done_.reset();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    co_return std::move(*page_);
  }

 private:
  ContainerRunner& runner_;
  bool running_ = false;
  std::optional<net::steady_timer> done_;
  std::optional<cosmos::Result<cosmos::QueryPage>> page_;
  std::exception_ptr failure_;
};

void ContainerRunner::wake() {
  if (pacing_timer_) pacing_timer_->cancel();
  retry_scope_.wake();
}

std::string ContainerRunner::waiting_reason() const {
  if (!waiting_reason_.empty()) return waiting_reason_;
  return retry_scope_.describe();
}

net::awaitable<void> ContainerRunner::pace(const BatchReport& last_batch) {
  const auto spent = clock_.monotonic_now();
  document_limiter_.spend(static_cast<double>(last_batch.counts.scanned),
                          settings_.max_documents_per_second, spent);
  request_unit_limiter_.spend(last_batch.request_charge, settings_.max_request_units_per_second,
                              spent);
  // The wait is recomputed whenever it is woken: a PATCH of either rate applies to what is owed
  // now (raised: the wait ends sooner; lowered: it lasts longer), a pause or stop ends it.
  while (!interrupted()) {
    const auto now = clock_.monotonic_now();
    const auto document_wait = document_limiter_.wait(settings_.max_documents_per_second, now);
    const auto request_unit_wait =
        request_unit_limiter_.wait(settings_.max_request_units_per_second, now);
    const auto wait = std::max(document_wait, request_unit_wait);
    if (wait <= std::chrono::steady_clock::duration::zero()) break;
    waiting_reason_ =
        document_wait >= request_unit_wait
            ? fmt::format("rate limit: {:g} documents/s", settings_.max_documents_per_second)
            : fmt::format("rate limit: {:g} RU/s", settings_.max_request_units_per_second);
    if (!pacing_timer_) pacing_timer_ = clock_.make_timer(co_await net::this_coro::executor);
    const auto deadline = now + wait;
    const boost::system::error_code woken = co_await pacing_timer_->wait_until(deadline);
    if (woken != net::error::operation_aborted) break;  // waited in full
    ++pacing_waits_cut_;
  }
  waiting_reason_.clear();
}

net::awaitable<RunOutcome> ContainerRunner::run() {
  started_ = clock_.monotonic_now();
  scanned_at_start_ = progress_.counts.scanned;
  Prefetch prefetch(*this);
  std::exception_ptr failure;
  RunOutcome outcome;
  try {
    outcome = co_await run_pages(prefetch);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await prefetch.drain();
  if (failure) std::rethrow_exception(failure);
  co_return outcome;
}

net::awaitable<RunOutcome> ContainerRunner::run_pages(Prefetch& prefetch) {
  const auto executor = co_await net::this_coro::executor;
  while (!progress_.finished) {
    if (hooks_.before_batch && !co_await hooks_.before_batch()) {
      co_return RunOutcome{RunStatus::kStopped, "stopped by operator"};
    }
    const auto batch_started = clock_.monotonic_now();
    // Hoisted: g++ 12 miscompiles temporaries and conditionals inside co_await expressions.
    if (!prefetch.started()) prefetch.start(executor, progress_.continuation);
    auto page = co_await prefetch.take();
    if (!page) {
      const auto cause = cosmos::retry_cause(page.error().status);
      if (!cause) {
        co_return RunOutcome{RunStatus::kFailed, "query failed: " + cosmos::describe(page.error())};
      }
      // Throttled or unavailable (a store that does not wait itself, or a scope that gave up):
      // wait and read the page again; never a failure.
      // The server's hint when it gave one, else 100 ms doubling per failed read; 5 s at most.
      const auto delay =
          std::min(std::chrono::milliseconds(5'000),
                   page.error().retry_after > std::chrono::milliseconds::zero()
                       ? page.error().retry_after
                       : std::chrono::milliseconds(100) * (1 << std::min(failed_queries_, 6)));
      ++failed_queries_;
      if (!co_await retry_scope_.wait(delay, *cause, page.error().status, "query")) {
        co_return RunOutcome{RunStatus::kStopped, "interrupted while the query was retried: " +
                                                      cosmos::describe(page.error())};
      }
      continue;
    }
    failed_queries_ = 0;
    if (!page->continuation.empty()) prefetch.start(executor, page->continuation);

    // Classify the whole page first: a page that crosses a stop criterion is not written.
    rapidjson::Value& documents = page->documents();
    auto& allocator = page->body.GetAllocator();
    BatchReport report{Counts(transform_.fields().size()), 0, page->request_charge, {}};
    std::vector<PendingWrite> writes;
    for (rapidjson::SizeType i = 0; i < documents.Size(); ++i) {
      // A page of 1,000 takes milliseconds: let the control plane and other jobs in between.
      if (i % kDocumentsBetweenYields == kDocumentsBetweenYields - 1) {
        co_await net::post(executor, net::use_awaitable);
      }
      TransformResult result = transform_.apply(documents[i], allocator, target_.mode);
      if (result.outcome == Outcome::kError) {
        spdlog::warn("{}: document {} left untouched: {}", target_.job_label, id_of(documents[i]),
                     result.detail);
      }
      if (result.outcome != Outcome::kRewritten || target_.mode != Mode::kLive) {
        report.counts.add(result);
      } else if (auto write = prepare_write(documents[i], result)) {
        writes.push_back(std::move(*write));
      } else {
        report.counts.add_write_failure(result);
      }
    }
    Counts tentative = progress_.counts;
    tentative += report.counts;
    if (std::string crossed = tentative.crossed(target_.stop); !crossed.empty()) {
      observed_ = tentative;
      co_return RunOutcome{RunStatus::kFailed, "stop criterion: " + crossed};
    }

    WriteStats stats;
    if (!co_await writer_.write_all(writes, stats, inflight_writes_)) {
      // Interrupted while writes waited out throttling: the batch is not counted nor
      // checkpointed; a resumed run starts again from the last checkpoint.
      co_return RunOutcome{RunStatus::kStopped,
                           "interrupted while writes waited out throttling; resumes from the "
                           "last checkpoint"};
    }
    for (const PendingWrite& write : writes) {
      if (write.state == PendingWrite::State::kFailed) {
        report.counts.add_write_failure(write.result);
      } else {
        report.counts.add(write.result);
      }
    }
    report.conflicts = stats.conflicts;
    report.request_charge += stats.request_charge;

    // Every write of the batch is acknowledged or failed for good: the batch is done.
    progress_.counts += report.counts;
    progress_.continuation = page->continuation;
    progress_.finished = page->continuation.empty();
    ++progress_.batches;
    observed_ = progress_.counts;
    report.elapsed = clock_.monotonic_now() - batch_started;
    log_batch(report);
    if (hooks_.after_batch) hooks_.after_batch(progress_, report);
    if (std::string crossed = progress_.counts.crossed(target_.stop); !crossed.empty()) {
      co_return RunOutcome{RunStatus::kFailed, "stop criterion: " + crossed};
    }
    if (!progress_.finished) co_await pace(report);
  }
  co_return RunOutcome{RunStatus::kSucceeded, {}};
}

std::optional<PendingWrite> ContainerRunner::prepare_write(const rapidjson::Value& document,
                                                           TransformResult result) const {
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
      "{}: batch {} ({} docs, {:.0f} ms{}) scanned={} {}={} skipped={} errors={} "
      "ownerMismatch={} missingPartitionKey={} rate={:.0f} docs/s{}",
      target_.job_label, progress_.batches, report.counts.scanned,
      std::chrono::duration<double, std::milli>(report.elapsed).count(),
      report.conflicts > 0 ? fmt::format(", {} conflicts re-read", report.conflicts) : "",
      counts.scanned, target_.rewritten_name, counts.rewritten, counts.skipped, counts.errors,
      counts.owner_mismatch, counts.missing_partition_key, rate,
      target_.mode == Mode::kDryRun ? " (dry run)" : "");
}

}  // namespace backfilld::engine
