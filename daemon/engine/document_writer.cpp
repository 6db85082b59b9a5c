#include "daemon/engine/document_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <string_view>

#include "daemon/common/json.hpp"
#include "daemon/engine/for_each_concurrent.hpp"

namespace backfilld::engine {
namespace {

constexpr int kMaxResends = 100;  ///< a 424 is bounded by the conflicts of its batch anyway

/// Whether two documents hold the same members and values, Cosmos's system properties aside.
bool same_content(const rapidjson::Value& a, const rapidjson::Value& b) {
  constexpr std::string_view kSystem[] = {"_rid", "_self", "_etag", "_attachments", "_ts"};
  const auto is_system = [&](const rapidjson::Value& name) {
    const std::string_view text(name.GetString(), name.GetStringLength());
    return std::find(std::begin(kSystem), std::end(kSystem), text) != std::end(kSystem);
  };
  if (!a.IsObject() || !b.IsObject()) return false;
  std::size_t members = 0;
  for (const auto& member : a.GetObject()) {
    if (is_system(member.name)) continue;
    ++members;
    auto other = b.FindMember(member.name);
    if (other == b.MemberEnd() || other->value != member.value) return false;
  }
  for (const auto& member : b.GetObject()) {
    if (!is_system(member.name)) --members;
  }
  return members == 0;
}

}  // namespace

/// The wait before the next round when some writes met a retryable answer: the longest
/// cosmos::round_delay of the round's answers.
struct DocumentWriter::Backoff {
  std::chrono::milliseconds delay{0};
  cosmos::RetryCause cause = cosmos::RetryCause::kThrottled;
  int status = 0;
  int rounds = 0;  ///< consecutive rounds that met a retryable answer

  /// True (and the write stays pending) when `status` is retryable.
  bool add(int answer, std::chrono::milliseconds retry_after = {}) {
    const auto retryable = cosmos::retry_cause(answer);
    if (!retryable) return false;
    delay = std::max(delay, cosmos::round_delay(retry_after, rounds));
    cause = *retryable;
    status = answer;
    return true;
  }
};

/// One request of a round: a single PUT or a batch of up to 100 operations.
struct DocumentWriter::Request {
  std::optional<cosmos::BatchKind> kind;  ///< empty: a single PUT
  std::string range_id;                   ///< bulk: the range every member falls into
  std::vector<std::size_t> members;       ///< indices into the page's writes
};

DocumentWriter::DocumentWriter(cosmos::DocumentStore& store,
                               const migrations::Transform& transform,
                               const cosmos::ContainerRef& container,
                               const RunSettings& settings,
                               std::string_view job_label,
                               cosmos::RetryScope& retry_scope)
    : store_(store),
      transform_(transform),
      container_(container),
      settings_(settings),
      job_label_(job_label),
      retry_scope_(retry_scope) {}

net::awaitable<void> DocumentWriter::resolve_routing() {
  if (routing_resolved_) co_return;
  routing_resolved_ = true;
  ranges_.clear();
  auto ranges = co_await store_.read_partition_key_ranges(container_);
  if (!ranges || ranges->empty()) {
    spdlog::info(
        "{}: partition key ranges unknown ({}); bulk writes fall back to batches per "
        "partition key value",
        job_label_, ranges ? "none listed" : cosmos::describe(ranges.error()));
    co_return;
  }
  ranges_ = std::move(*ranges);
  if (ranges_.size() == 1 || definition_) co_return;
  // Several ranges: a document's range follows from its partition key's EPK hash, which
  // depends on the container's hash version.
  auto definition = co_await store_.read_partition_key_definition(container_);
  if (definition) {
    definition_ = *definition;
  } else {
    spdlog::info(
        "{}: {} partition key ranges but the container's hash is unknown ({}); bulk "
        "writes fall back to batches per partition key value",
        job_label_, ranges_.size(), cosmos::describe(definition.error()));
  }
}

std::optional<std::string> DocumentWriter::range_of(const PendingWrite& write) const {
  if (ranges_.size() == 1) return ranges_.front().id;
  if (ranges_.empty() || !definition_) return std::nullopt;
  auto epk = cosmos::effective_partition_key(*definition_, write.operation.key);
  if (!epk) return std::nullopt;
  const cosmos::PartitionKeyRange* range = cosmos::find_range(ranges_, *epk);
  if (range == nullptr) return std::nullopt;
  return range->id;
}

std::vector<DocumentWriter::Request> DocumentWriter::plan(
    const std::vector<PendingWrite>& writes) const {
  std::vector<Request> requests;
  const WriteMode mode = settings_.write_mode;
  const bool bulk = mode == WriteMode::kBulk || mode == WriteMode::kAuto;
  // Ordered maps: a stable plan.
  std::map<std::string_view, std::vector<std::size_t>> by_key;
  std::map<std::string, std::vector<std::size_t>> by_range;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const PendingWrite& write = writes[i];
    if (write.state != PendingWrite::State::kPending) continue;
    std::optional<std::string> range;
    if (mode == WriteMode::kSingle || write.alone) {
      requests.push_back(Request{std::nullopt, {}, {i}});
    } else if (bulk && (range = range_of(write))) {
      by_range[*range].push_back(i);
    } else {
      by_key[write.operation.key.header].push_back(i);
    }
  }
  auto add_chunks = [&](const std::vector<std::size_t>& members, cosmos::BatchKind kind,
                        const std::string& range) {
    for (std::size_t start = 0; start < members.size(); start += cosmos::kMaxBatchOperations) {
      const std::size_t end = std::min(members.size(), start + cosmos::kMaxBatchOperations);
      Request request{kind,
                      range,
                      {members.begin() + static_cast<std::ptrdiff_t>(start),
                       members.begin() + static_cast<std::ptrdiff_t>(end)}};
      if (request.members.size() == 1) request.kind.reset();
      requests.push_back(std::move(request));
    }
  };
  for (const auto& [range, members] : by_range) {
    add_chunks(members, cosmos::BatchKind::kBulk, range);
  }
  for (const auto& [key, members] : by_key) add_chunks(members, cosmos::BatchKind::kAtomic, {});
  return requests;
}

net::awaitable<bool> DocumentWriter::write_all(std::vector<PendingWrite>& writes,
                                               WriteStats& stats,
                                               std::size_t& inflight,
                                               cosmos::DocumentStore& store) {
  const bool bulk =
      settings_.write_mode == WriteMode::kAuto || settings_.write_mode == WriteMode::kBulk;
  int throttled_rounds = 0;
  for (;;) {
    if (bulk) co_await resolve_routing();
    const std::vector<Request> requests = plan(writes);
    if (requests.empty()) co_return true;
    Backoff backoff{.rounds = throttled_rounds};
    co_await for_each_concurrent(
        requests.size(), settings_.write_concurrency, [&](std::size_t k) -> net::awaitable<void> {
          const Request& request = requests[k];
          inflight += request.members.size();
          if (request.kind) {
            co_await write_batch(store, request, writes, stats, backoff);
          } else {
            co_await write_single(store, writes[request.members.front()], stats, backoff);
          }
          inflight -= request.members.size();
        });
    if (backoff.status == 0 && backoff.delay == std::chrono::milliseconds::zero()) {
      throttled_rounds = 0;
      continue;
    }
    ++throttled_rounds;
    if (!co_await retry_scope_.wait(backoff.delay, backoff.cause, backoff.status, "write")) {
      spdlog::info("{}: writes waiting out throttling interrupted; the page is not checkpointed",
                   job_label_);
      co_return false;
    }
  }
}

net::awaitable<void> DocumentWriter::write_single(cosmos::DocumentStore& store,
                                                  PendingWrite& write,
                                                  WriteStats& stats,
                                                  Backoff& backoff) {
  cosmos::WriteOperation& operation = write.operation;
  // A 412 re-serializes the fresh copy, a retryable answer sends the body again, any other
  // failure is final.
  // copy-container's copies are upserts (unconditional); every other write a conditional replace.
  std::optional<cosmos::Result<cosmos::WriteAck>> sent;
  if (operation.kind == cosmos::WriteOperation::Kind::kUpsert) {
    sent.emplace(co_await store.upsert_document(container_, operation.key, operation.body));
  } else {
    sent.emplace(co_await store.replace_document(container_, operation.id, operation.key,
                                                 operation.body, operation.if_match));
  }
  auto& ack = *sent;
  if (ack) {
    stats.request_charge += ack->request_charge;
    write.state = PendingWrite::State::kDone;
    co_return;
  }
  stats.request_charge += ack.error().request_charge;
  if (ack.error().is_precondition_failed()) {
    co_await resolve_conflict(store, write, stats, backoff);
  } else if (!backoff.add(ack.error().status, ack.error().retry_after)) {
    fail(write, "write", ack.error());
  }
}

net::awaitable<void> DocumentWriter::write_batch(cosmos::DocumentStore& store,
                                                 const Request& request,
                                                 std::vector<PendingWrite>& writes,
                                                 WriteStats& stats,
                                                 Backoff& backoff) {
  cosmos::BatchRequest batch{.container = container_,
                             .kind = *request.kind,
                             .key = writes[request.members.front()].operation.key,
                             .partition_key_range_id = request.range_id,
                             .operations = {}};
  batch.operations.reserve(request.members.size());
  for (std::size_t i : request.members) batch.operations.push_back(&writes[i].operation);
  auto response = co_await store.execute_batch(batch);
  if (!response) {
    stats.request_charge += response.error().request_charge;
    // The range split (bulk batches are pinned to one): routed again after the wait.
    if (response.error().is_range_gone()) routing_changed();
    // Throttled, unavailable or its range gone: the same writes go again after the wait. Only a
    // request the store refuses as a batch is split into single writes.
    if (backoff.add(response.error().status, response.error().retry_after)) co_return;
    spdlog::warn("{}: batch of {} documents refused ({}); they go as single writes", job_label_,
                 request.members.size(), cosmos::describe(response.error()));
    for (std::size_t i : request.members) writes[i].alone = true;
    co_return;
  }
  stats.request_charge += response->request_charge;
  for (std::size_t k = 0; k < request.members.size(); ++k) {
    PendingWrite& write = writes[request.members[k]];
    const cosmos::OperationResult& result = response->results[k];
    if (result.status >= 200 && result.status < 300) {
      write.state = PendingWrite::State::kDone;
    } else if (result.status == 412) {
      co_await resolve_conflict(store, write, stats, backoff);
    } else if (result.status == 424 && ++write.resends <= kMaxResends) {
      // Not applied because another operation of the atomic batch failed: send it again.
    } else if (backoff.add(result.status, result.retry_after)) {
      ++write.resends;  // throttled inside the batch: sent again after the wait, never failed
    } else {
      fail(write, "batched write",
           cosmos::Error{result.status,
                         result.substatus,
                         "operation failed in a batch",
                         {},
                         result.request_charge});
    }
  }
}

net::awaitable<void> DocumentWriter::resolve_conflict(cosmos::DocumentStore& store,
                                                      PendingWrite& write,
                                                      WriteStats& stats,
                                                      Backoff& backoff) {
  const std::string& id = write.operation.id;
  if (write.conflicts >= settings_.max_conflict_retries) {
    write.state = PendingWrite::State::kFailed;
    spdlog::error("{}: document {} kept changing ({} conflicts); left for the next run", job_label_,
                  id, write.conflicts + 1);
    co_return;
  }
  // The application wrote it meanwhile. Re-read and re-apply, so its write is kept.
  ++write.conflicts;
  ++stats.conflicts;
  auto fresh = co_await store.read_document(container_, id, write.operation.key);
  if (!fresh) {
    if (fresh.error().is_not_found()) {
      // Deleted meanwhile: nothing left to migrate.
      write.result.outcome = migrations::Outcome::kUnchanged;
      for (auto& field : write.result.fields) field = migrations::FieldOutcome::kSkipped;
      write.state = PendingWrite::State::kDone;
      co_return;
    }
    if (backoff.add(fresh.error().status, fresh.error().retry_after)) {
      // The re-read was throttled: the write goes again (meets its 412 again) after the wait,
      // and this round does not use up the document's conflict budget.
      --write.conflicts;
      co_return;
    }
    fail(write, "re-read", fresh.error());
    co_return;
  }
  stats.request_charge += fresh->request_charge;
  // Our own write landed but its answer was lost (connection dropped, deadline passed) and the
  // retry met its new etag: the document is ours, counted once as written (a fresh envelope's
  // random iv makes the match conclusive).
  if (write.written != nullptr && same_content(fresh->document, *write.written)) {
    write.state = PendingWrite::State::kDone;
    co_return;
  }
  write.reread.emplace(std::move(fresh->document));
  write.result =
      transform_.apply(*write.reread, write.reread->GetAllocator(), migrations::Mode::kLive);
  if (write.result.outcome != migrations::Outcome::kRewritten) {
    write.state = PendingWrite::State::kDone;
    co_return;
  }
  write.operation.if_match = std::move(fresh->etag);
  write.operation.body = common::to_json(*write.reread);
  write.written = &*write.reread;
}

void DocumentWriter::fail(PendingWrite& write,
                          std::string_view what,
                          const cosmos::Error& error) const {
  write.state = PendingWrite::State::kFailed;
  spdlog::error("{}: {} of document {} failed: {}", job_label_, what, write.operation.id,
                cosmos::describe(error));
}

}  // namespace backfilld::engine
