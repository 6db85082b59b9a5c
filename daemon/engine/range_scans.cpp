// ContainerRunner, part two: the parallel scans of a container's partition key ranges, how they
// hold for a pause, follow a split, and give a range back when rangeConcurrency is lowered.
#include <spdlog/spdlog.h>

#include "daemon/common/json.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/prefetch.hpp"

namespace backfilld::engine {
namespace {

using migrations::Mode;
using migrations::Outcome;
using migrations::TransformResult;

constexpr rapidjson::SizeType kDocumentsBetweenYields = 64;
/// Empty pages in a row after which a range's scan says so (then at every further power of 2).
constexpr std::uint64_t kEmptyPagesWorthALine = 64;

}  // namespace

RangePosition* ContainerRunner::find_position(const std::string& key) {
  for (RangePosition& position : progress_.ranges) {
    if (position.key() == key) return &position;
  }
  return nullptr;
}

void ContainerRunner::notify_supervisor() {
  if (supervisor_signal_) supervisor_signal_->cancel();
}

void ContainerRunner::end(RunOutcome outcome) {
  if (!outcome_) outcome_ = std::move(outcome);
  notify_supervisor();
}

net::awaitable<RunOutcome> ContainerRunner::supervise() {
  const auto executor = co_await net::this_coro::executor;
  if (hooks_.before_batch && !co_await hooks_.before_batch()) {
    co_return RunOutcome{RunStatus::kStopped, "stopped by operator"};
  }
  for (;;) {
    if (active_ == 0 && (outcome_ || progress_.finished)) break;
    // Interrupted (pause, stop, shutdown) and every scan held between batches: the job's gate
    // decides, once for all of them, whether they go on or stop.
    if (!outcome_ && interrupted() && held_ == active_) {
      const bool go = hooks_.before_batch && co_await hooks_.before_batch();
      if (!go) end(RunOutcome{RunStatus::kStopped, "stopped by operator"});
      hold_result_ = go;
      ++hold_generation_;
      hold_signal_->cancel();
      if (go) continue;
    }
    if (!outcome_ && !interrupted()) launch_scans(executor);
    if (active_ == 0 && (outcome_ || progress_.finished)) continue;  // ends above
    boost::system::error_code woken;
    co_await supervisor_signal_->async_wait(net::redirect_error(net::use_awaitable, woken));
  }
  co_return outcome_.value_or(RunOutcome{RunStatus::kSucceeded, {}});
}

void ContainerRunner::launch_scans(const net::any_io_executor& executor) {
  const std::size_t limit = std::max<std::uint32_t>(1, settings_.range_concurrency);
  for (const RangePosition& position : progress_.ranges) {
    if (active_ >= limit) break;
    if (position.finished || claimed_.contains(position.key())) continue;
    claimed_.insert(position.key());
    ++active_;
    net::co_spawn(executor, scan_range(position.key()), net::detached);
  }
}

net::awaitable<bool> ContainerRunner::hold() {
  ++held_;
  notify_supervisor();
  const std::uint64_t generation = hold_generation_;
  while (hold_generation_ == generation) {
    boost::system::error_code woken;
    co_await hold_signal_->async_wait(net::redirect_error(net::use_awaitable, woken));
  }
  --held_;
  co_return hold_result_;
}

net::awaitable<void> ContainerRunner::scan_range(std::string key) {
  const auto executor = co_await net::this_coro::executor;
  // The range's view of the store (its requests pay into its budget), made again after a split;
  // declared before the prefetch, which uses it until drained.
  std::string view_range = find_position(key)->range_id;
  std::unique_ptr<cosmos::DocumentStore> view = range_view(view_range);
  Prefetch prefetch(*this);
  int failed_queries = 0;  // consecutive pages that met a retryable answer
  std::uint64_t empty_pages = 0;
  try {
    for (;;) {
      if (outcome_) break;
      const RangePosition* position = find_position(key);
      if (position == nullptr || position->finished) break;
      // rangeConcurrency was lowered: the range goes back, its position kept.
      if (active_ > std::max<std::uint32_t>(1, settings_.range_concurrency)) break;
      if (interrupted()) {
        if (!co_await hold()) break;
        continue;
      }
      const auto batch_started = clock_.monotonic_now();
      co_await refresh_throughput();
      position = find_position(key);
      if (!prefetch.started()) {
        if (position->range_id != view_range) {
          view_range = position->range_id;
          view = range_view(view_range);
        }
        prefetch.start(executor, *position, view ? *view : store_);
      }
      auto page = co_await prefetch.take();
      position = find_position(key);  // another range's split may have moved it
      if (!page) {
        const cosmos::Error& error = page.error();
        if (error.is_range_gone() && position->pinned()) {
          std::string next = co_await follow_split(key, error);
          if (next.empty()) break;
          if (next != key) {
            claimed_.erase(key);
            claimed_.insert(next);
            key = std::move(next);
          }
          continue;
        }
        if (error.status == 400 && !position->continuation.empty()) {
          // The service no longer takes the continuation (changed after an upgrade, or minted
          // for another range): the range is read again from its start. Documents already
          // rewritten are skipped, so nothing is done twice, only read twice.
          spdlog::error(
              "{}: range {}: the service refused its continuation ({}); scanning the "
              "range again from its start",
              target_.job_label, position->range_id, cosmos::describe(error));
          find_position(key)->continuation.clear();
          continue;
        }
        const auto cause = cosmos::retry_cause(error.status);
        if (!cause) {
          end(RunOutcome{RunStatus::kFailed, "query failed: " + cosmos::describe(error)});
          break;
        }
        // Throttled or unavailable (a store that does not wait itself, or a scope that gave
        // up): wait and read the page again; never a failure.
        const auto delay = cosmos::round_delay(error.retry_after, failed_queries++);
        if (!co_await retry_scope_.wait(delay, *cause, error.status, "query")) {
          end(RunOutcome{RunStatus::kStopped,
                         "interrupted while the query was retried: " + cosmos::describe(error)});
          break;
        }
        continue;
      }
      failed_queries = 0;
      if (!page->continuation.empty()) {
        RangePosition next = *position;
        next.continuation = page->continuation;
        prefetch.start(executor, std::move(next), view ? *view : store_);
      }
      if (page->documents().Empty() && !page->continuation.empty()) {
        if (++empty_pages >= kEmptyPagesWorthALine && (empty_pages & (empty_pages - 1)) == 0) {
          spdlog::info("{}: range {}: {} empty pages in a row; the scan goes on", target_.job_label,
                       position->range_id, empty_pages);
        }
      } else {
        empty_pages = 0;
      }
      if (!co_await process_page(key, *page, batch_started, view ? *view : store_)) break;
    }
  } catch (const std::exception& exception) {
    end(RunOutcome{RunStatus::kFailed, std::string("internal error: ") + exception.what()});
  }
  co_await prefetch.drain();
  claimed_.erase(key);
  --active_;
  notify_supervisor();
}

net::awaitable<std::string> ContainerRunner::follow_split(const std::string& key,
                                                          const cosmos::Error& gone) {
  for (int attempt = 0;; ++attempt) {
    auto ranges = co_await store_.read_partition_key_ranges(target_.container);
    if (!ranges) {
      if (cosmos::retry_cause(ranges.error().status) && interrupted()) {
        end(RunOutcome{RunStatus::kStopped,
                       "interrupted while the ranges were read after a split"});
      } else {
        end(RunOutcome{RunStatus::kFailed, "cannot read the partition key ranges after a split: " +
                                               cosmos::describe(ranges.error())});
      }
      co_return std::string();
    }
    const RangePosition& position = *find_position(key);
    Successors next = successors(position, *ranges);
    if (!next.still_listed && !next.children.empty()) {
      std::string ids;
      for (const RangePosition& child : next.children) {
        ids += (ids.empty() ? "" : ", ") + child.range_id;
      }
      spdlog::info("{}: range {} is gone ({}): continuing in {} from its continuation",
                   target_.job_label, position.range_id, cosmos::describe(gone), ids);
      std::string first = next.children.front().key();
      if (governor_ != nullptr) {
        std::vector<std::string> children;
        for (const RangePosition& child : next.children) children.push_back(child.range_id);
        governor_->split(position.range_id, children);
      }
      apply_split(progress_.ranges, key, std::move(next.children));
      if (governor_ != nullptr) governor_->set_layout_ranges(progress_.ranges.size());
      writer_.routing_changed();
      notify_supervisor();  // the other children may start now
      co_return first;
    }
    // Still listed (the split is not visible yet) or, which the service never does, no range
    // covers it any more: wait and ask again.
    if (next.children.empty() && !next.still_listed) {
      spdlog::error("{}: range {} is gone and no listed range covers [{}, {}); asking again",
                    target_.job_label, position.range_id, position.min_inclusive,
                    position.max_exclusive);
    }
    const auto delay = cosmos::round_delay(gone.retry_after, attempt);
    if (!co_await retry_scope_.wait(delay, cosmos::RetryCause::kGone, gone.status, "query")) {
      end(RunOutcome{RunStatus::kStopped, "interrupted while waiting for a split to complete"});
      co_return std::string();
    }
    if (next.still_listed) co_return key;  // ask the range itself again
  }
}

net::awaitable<bool> ContainerRunner::process_page(
    const std::string& key,
    cosmos::QueryPage& page,
    std::chrono::steady_clock::time_point batch_started,
    cosmos::DocumentStore& store) {
  const auto executor = co_await net::this_coro::executor;
  // Classify the whole page first: a page that crosses a stop criterion is not written.
  rapidjson::Value& documents = page.documents();
  auto& allocator = page.body.GetAllocator();
  BatchReport report{
      find_position(key)->range_id, Counts(transform_.fields().size()), 0, page.request_charge, {}};
  std::vector<PendingWrite> writes;
  for (rapidjson::SizeType i = 0; i < documents.Size(); ++i) {
    // A page of 1,000 takes milliseconds: let the control plane and other scans in between.
    if (i % kDocumentsBetweenYields == kDocumentsBetweenYields - 1) {
      co_await net::post(executor, net::use_awaitable);
    }
    TransformResult result = transform_.apply(documents[i], allocator, target_.mode);
    if (result.outcome == Outcome::kError) {
      spdlog::warn("{}: document {} left untouched: {}", target_.job_label,
                   common::string_member(documents[i], "id").value_or(""), result.detail);
    }
    if (result.outcome != Outcome::kRewritten || target_.mode != Mode::kLive) {
      report.counts.add(result);
    } else if (auto write = prepare_write(documents[i], result)) {
      writes.push_back(std::move(*write));
    } else {
      report.counts.add_write_failure(result);
    }
  }
  if (outcome_) co_return false;  // another range ended the run meanwhile
  Counts tentative = progress_.counts;
  tentative += report.counts;
  if (std::string crossed = tentative.crossed(target_.stop); !crossed.empty()) {
    observed_ = tentative;
    end(RunOutcome{RunStatus::kFailed, "stop criterion: " + crossed});
    co_return false;
  }

  WriteStats stats;
  if (!co_await writer_.write_all(writes, stats, inflight_writes_, store)) {
    // Interrupted while writes waited out throttling: the batch is not counted nor
    // checkpointed; a resumed run starts again from the last checkpoint.
    end(RunOutcome{RunStatus::kStopped,
                   "interrupted while writes waited out throttling; resumes from the last "
                   "checkpoint"});
    co_return false;
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
  RangePosition& position = *find_position(key);
  position.continuation = page.continuation;
  position.finished = page.continuation.empty();
  position.scanned += report.counts.scanned;
  ++position.batches;
  progress_.counts += report.counts;
  progress_.finished = all_finished(progress_.ranges);
  ++progress_.batches;
  observed_ = progress_.counts;
  report.elapsed = clock_.monotonic_now() - batch_started;
  log_batch(report);
  if (hooks_.after_batch) hooks_.after_batch(progress_, report);
  if (std::string crossed = progress_.counts.crossed(target_.stop); !crossed.empty()) {
    end(RunOutcome{RunStatus::kFailed, "stop criterion: " + crossed});
    co_return false;
  }
  if (!position.finished) co_await pace(report);
  co_return true;
}

}  // namespace backfilld::engine
