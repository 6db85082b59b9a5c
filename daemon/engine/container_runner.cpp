#include "daemon/engine/container_runner.hpp"

#include <spdlog/spdlog.h>

#include "daemon/common/json.hpp"
#include "daemon/engine/for_each_concurrent.hpp"

namespace backfilld::engine {
namespace {

using migrations::Mode;
using migrations::Outcome;
using migrations::TransformResult;

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
    : store_(store),
      transform_(transform),
      target_(std::move(target)),
      settings_(settings),
      clock_(clock),
      hooks_(std::move(hooks)),
      progress_(std::move(start)),
      observed_(progress_.counts),
      partition_key_pointer_(target_.partition_key_path.c_str()),
      query_parameters_(parameters_for(target_.product_id)) {
  if (progress_.counts.fields.size() < transform_.fields().size()) {
    progress_.counts.fields.resize(transform_.fields().size());
    observed_ = progress_.counts;
  }
}

net::awaitable<cosmos::Result<cosmos::QueryPage>> ContainerRunner::fetch_page() {
  cosmos::QueryRequest request{
      .container = target_.container,
      .query =
          target_.product_id ? "SELECT * FROM c WHERE c.productId = @productId" : "SELECT * FROM c",
      .parameters_json = query_parameters_,
      .max_item_count = static_cast<int>(std::max<std::uint32_t>(1, settings_.batch_size)),
      .continuation = progress_.continuation};
  co_return co_await store_.query_documents(request);
}

void ContainerRunner::wake() {
  if (pacing_timer_) pacing_timer_->cancel();
}

net::awaitable<void> ContainerRunner::pace(const BatchReport& last_batch) {
  const auto now = clock_.monotonic_now();
  const auto document_wait = document_limiter_.spend(static_cast<double>(last_batch.counts.scanned),
                                                     settings_.max_documents_per_second, now);
  const auto request_unit_wait = request_unit_limiter_.spend(
      last_batch.request_charge, settings_.max_request_units_per_second, now);
  const auto wait = std::max(document_wait, request_unit_wait);
  if (wait <= std::chrono::steady_clock::duration::zero()) co_return;
  waiting_reason_ =
      document_wait >= request_unit_wait
          ? fmt::format("rate limit: {:g} documents/s", settings_.max_documents_per_second)
          : fmt::format("rate limit: {:g} RU/s", settings_.max_request_units_per_second);
  if (!pacing_timer_) pacing_timer_.emplace(co_await net::this_coro::executor);
  pacing_timer_->expires_after(wait);
  boost::system::error_code woken;
  co_await pacing_timer_->async_wait(net::redirect_error(net::use_awaitable, woken));
  waiting_reason_.clear();
}

net::awaitable<RunOutcome> ContainerRunner::run() {
  started_ = clock_.monotonic_now();
  scanned_at_start_ = progress_.counts.scanned;
  while (!progress_.finished) {
    if (hooks_.before_batch && !co_await hooks_.before_batch()) {
      co_return RunOutcome{RunStatus::kStopped, "stopped by operator"};
    }
    const auto batch_started = clock_.monotonic_now();
    auto page = co_await fetch_page();
    if (!page) {
      co_return RunOutcome{RunStatus::kFailed, "query failed: " + cosmos::describe(page.error())};
    }

    // Classify the whole page first: a page that crosses a stop criterion is not written.
    rapidjson::Value& documents = page->documents();
    auto& allocator = page->body.GetAllocator();
    BatchReport report{Counts(transform_.fields().size()), 0, page->request_charge, {}};
    std::vector<TransformResult> results(documents.Size());
    std::vector<rapidjson::SizeType> to_write;
    for (rapidjson::SizeType i = 0; i < documents.Size(); ++i) {
      results[i] = transform_.apply(documents[i], allocator, target_.mode);
      if (results[i].outcome == Outcome::kError) {
        spdlog::warn("{}: document {} left untouched: {}", target_.job_label, id_of(documents[i]),
                     results[i].detail);
      }
      if (results[i].outcome == Outcome::kRewritten && target_.mode == Mode::kLive) {
        to_write.push_back(i);
      } else {
        report.counts.add(results[i]);
      }
    }
    Counts tentative = progress_.counts;
    tentative += report.counts;
    if (std::string crossed = tentative.crossed(target_.stop); !crossed.empty()) {
      observed_ = tentative;
      co_return RunOutcome{RunStatus::kFailed, "stop criterion: " + crossed};
    }

    bool write_failed = false;
    co_await for_each_concurrent(
        to_write.size(), settings_.write_concurrency, [&](std::size_t k) -> net::awaitable<void> {
          const rapidjson::SizeType i = to_write[k];
          bool failed = false;
          ++inflight_writes_;
          TransformResult final_result =
              co_await write_back(documents[i], std::move(results[i]), report, failed);
          --inflight_writes_;
          if (failed) {
            write_failed = true;
            report.counts.add_write_failure(final_result);
          } else {
            report.counts.add(final_result);
          }
        });
    (void)write_failed;

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

net::awaitable<TransformResult> ContainerRunner::write_back(rapidjson::Value& document,
                                                            TransformResult result,
                                                            BatchReport& report,
                                                            bool& failed) {
  if (const migrations::CopyDestination* copy = transform_.copy_destination()) {
    co_return co_await copy_out(*copy, document, std::move(result), report, failed);
  }
  const std::string id(id_of(document));
  const rapidjson::Value* key_value = partition_key_pointer_.Get(document);
  if (id.empty() || key_value == nullptr) {
    failed = true;
    spdlog::error("{}: rewritten document has no id or partition key; not written",
                  target_.job_label);
    co_return result;
  }
  const cosmos::PartitionKey key = cosmos::PartitionKey::of(*key_value);
  std::string etag(common::string_member(document, "_etag").value_or(""));
  std::string body = common::to_json(document);

  // The fresh copy after a conflict must outlive the loop iteration that wrote it.
  std::optional<rapidjson::Document> reread;
  for (int conflicts = 0;; ++conflicts) {
    auto ack = co_await store_.replace_document(target_.container, id, key, std::move(body), etag);
    if (ack) {
      report.request_charge += ack->request_charge;
      co_return result;
    }
    report.request_charge += ack.error().request_charge;
    if (!ack.error().is_precondition_failed()) {
      failed = true;
      spdlog::error("{}: write of document {} failed: {}", target_.job_label, id,
                    cosmos::describe(ack.error()));
      co_return result;
    }
    if (conflicts >= settings_.max_conflict_retries) {
      failed = true;
      spdlog::error("{}: document {} kept changing ({} conflicts); left for the next run",
                    target_.job_label, id, conflicts + 1);
      co_return result;
    }
    // 412: the application wrote it meanwhile. Re-read and re-apply, so its write is kept.
    ++report.conflicts;
    auto fresh = co_await store_.read_document(target_.container, id, key);
    if (fresh) report.request_charge += fresh->request_charge;
    if (!fresh) {
      if (fresh.error().is_not_found()) {
        // Deleted meanwhile: nothing left to migrate.
        result.outcome = Outcome::kUnchanged;
        for (auto& field : result.fields) field = migrations::FieldOutcome::kSkipped;
        co_return result;
      }
      failed = true;
      spdlog::error("{}: re-read of document {} failed: {}", target_.job_label, id,
                    cosmos::describe(fresh.error()));
      co_return result;
    }
    reread.emplace(std::move(fresh->document));
    result = transform_.apply(*reread, reread->GetAllocator(), Mode::kLive);
    if (result.outcome != Outcome::kRewritten) co_return result;
    etag = std::move(fresh->etag);
    body = common::to_json(*reread);
  }
}

net::awaitable<TransformResult> ContainerRunner::copy_out(const migrations::CopyDestination& copy,
                                                          const rapidjson::Value& document,
                                                          TransformResult result,
                                                          BatchReport& report,
                                                          bool& failed) {
  // Keyed by id and the new partition key: a rerun (at-least-once) rewrites the same copy.
  const rapidjson::Value* key_value =
      rapidjson::Pointer(copy.partition_key_path.c_str()).Get(document);
  if (id_of(document).empty() || key_value == nullptr) {
    failed = true;
    spdlog::error("{}: document without id or target partition key; not copied", target_.job_label);
    co_return result;
  }
  const cosmos::ContainerRef destination{target_.container.database, copy.container};
  auto ack = co_await store_.upsert_document(destination, cosmos::PartitionKey::of(*key_value),
                                             common::to_json(document));
  if (ack) {
    report.request_charge += ack->request_charge;
  } else {
    report.request_charge += ack.error().request_charge;
    failed = true;
    spdlog::error("{}: copy of document {} to {} failed: {}", target_.job_label, id_of(document),
                  copy.container, cosmos::describe(ack.error()));
  }
  co_return result;
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
