#include "daemon/engine/document_writer.hpp"

#include <doctest/doctest.h>

#include <map>

#include "daemon/common/json.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/mark_secret.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::engine {
namespace {

using migrations::Outcome;
using State = PendingWrite::State;

struct Fixture {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MarkSecret transform;
  cosmos::ContainerRef container{"db", "notes"};
  RunSettings settings{.batch_size = 500, .write_concurrency = 4, .max_conflict_retries = 3};

  static std::string note(const std::string& id, const std::string& ws, const std::string& text) {
    return R"({"id":")" + id + R"(","ws":")" + ws + R"(","owner":"u","secret":")" + text + "\"}";
  }

  /// Stores `count` notes in workspace `ws`, ids ws-0, ws-1, ...
  void seed(const std::string& ws, int count) {
    for (int i = 0; i < count; ++i) store.put(note(ws + "-" + std::to_string(i), ws, "plain"));
  }

  /// Every stored document, rewritten as the engine would write it back.
  std::vector<PendingWrite> rewrite(const std::vector<std::string>& ids) {
    std::vector<PendingWrite> writes;
    for (const auto& id : ids) {
      rapidjson::Document document = store.get(id);
      PendingWrite write;
      write.result = transform.apply(document, document.GetAllocator(), migrations::Mode::kLive);
      write.operation = {cosmos::WriteOperation::Kind::kReplace, id,
                         cosmos::PartitionKey::of(document["ws"]), common::to_json(document),
                         document["_etag"].GetString()};
      writes.push_back(std::move(write));
    }
    return writes;
  }

  WriteStats write(std::vector<PendingWrite>& writes) {
    DocumentWriter writer(store, transform, container, settings, "test/notes", retry_scope);
    WriteStats stats;
    std::size_t inflight = 0;
    completed = testing::run_sync(io, writer.write_all(writes, stats, inflight, store));
    CHECK(inflight == 0);
    return stats;
  }

  bool interrupted = false;
  cosmos::RetryScope retry_scope{[this] { return interrupted; }};
  bool completed = false;

  bool encrypted(const std::string& id) { return store.get(id)["secret"].IsObject(); }
};

std::vector<std::string> ids(const std::string& ws, int count) {
  std::vector<std::string> result;
  for (int i = 0; i < count; ++i) result.push_back(ws + "-" + std::to_string(i));
  return result;
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "batch mode: one atomic batch per partition key value, <= 100 each") {
  settings.write_mode = WriteMode::kBatch;
  seed("a", 150);
  seed("b", 3);
  seed("c", 1);
  auto wanted = ids("a", 150);
  for (const auto& id : ids("b", 3)) wanted.push_back(id);
  wanted.push_back("c-0");
  auto writes = rewrite(wanted);
  write(writes);
  for (const auto& w : writes) CHECK(w.state == State::kDone);
  for (const auto& id : wanted) CHECK(encrypted(id));
  std::sort(store.batch_sizes.begin(), store.batch_sizes.end());
  CHECK(store.batch_sizes == std::vector<std::size_t>{3, 50, 100});
  CHECK(store.last_batch_kind == cosmos::BatchKind::kAtomic);
  CHECK(store.single_writes == 1);  // c-0 is alone in its partition: a plain PUT
  CHECK(store.replaces == 154);
}

TEST_CASE_FIXTURE(Fixture, "a 412 inside an atomic batch: split, re-read, nothing lost") {
  settings.write_mode = WriteMode::kBatch;
  seed("a", 5);
  auto writes = rewrite(ids("a", 5));
  bool app_wrote = false;
  store.before_replace = [&](const std::string& id) {
    if (id == "a-2" && !app_wrote) {
      app_wrote = true;  // the application edits a-2 between our read and our batch
      store.put(R"({"id":"a-2","ws":"a","owner":"u","secret":"app text","edited":true})");
    }
  };
  const WriteStats stats = write(writes);
  CHECK(stats.conflicts == 1);
  CHECK(store.conflicts == 1);
  CHECK(store.reads == 1);
  // The first batch failed as a whole; the second carried all five with a-2's fresh etag.
  CHECK(store.batch_sizes == std::vector<std::size_t>{5, 5});
  CHECK(store.replaces == 5);
  for (const auto& w : writes) CHECK(w.state == State::kDone);
  const auto a2 = store.get("a-2");
  CHECK(a2["edited"].GetBool());              // the application's write survived
  CHECK(a2["secret"]["was"].GetUint() == 8);  // and its new value was encrypted
  for (const auto& id : ids("a", 5)) CHECK(encrypted(id));
}

TEST_CASE_FIXTURE(Fixture, "a document that keeps changing inside batches fails alone") {
  settings.write_mode = WriteMode::kBatch;
  seed("a", 3);
  auto writes = rewrite(ids("a", 3));
  int edits = 0;
  store.before_replace = [&](const std::string& id) {
    if (id == "a-0") {
      store.put(R"({"id":"a-0","ws":"a","owner":"u","secret":"edit )" + std::to_string(++edits) +
                "\"}");
    }
  };
  write(writes);
  CHECK(writes[0].state == State::kFailed);
  CHECK(writes[1].state == State::kDone);
  CHECK(writes[2].state == State::kDone);
  CHECK(store.conflicts == settings.max_conflict_retries + 1);
  CHECK(!encrypted("a-0"));
  CHECK(encrypted("a-1"));
}

TEST_CASE_FIXTURE(Fixture, "bulk: one non-atomic request per range, only the conflict retried") {
  seed("a", 2);
  seed("b", 2);
  auto writes = rewrite({"a-0", "b-0", "a-1", "b-1"});
  SUBCASE("auto picks bulk when the container has one range") {}
  SUBCASE("bulk explicitly") { settings.write_mode = WriteMode::kBulk; }
  bool app_wrote = false;
  store.before_replace = [&](const std::string& id) {
    if (id == "b-0" && !app_wrote) {
      app_wrote = true;
      store.put(note("b-0", "b", "app"));
    }
  };
  write(writes);
  CHECK(store.batch_sizes == std::vector<std::size_t>{4});
  CHECK(store.last_batch_kind == cosmos::BatchKind::kBulk);
  CHECK(store.single_writes == 1);  // b-0 after its re-read
  CHECK(store.replaces == 4);
  for (const auto& id : {"a-0", "a-1", "b-0", "b-1"}) CHECK(encrypted(id));
}

TEST_CASE_FIXTURE(Fixture, "auto on a container with several ranges routes bulk batches by EPK") {
  store.ranges.reset(8);
  // 40 workspaces of 2 notes spread over the 8 ranges; each bulk batch holds only documents of
  // its range (the fake checks every operation's EPK against the batch's range).
  std::vector<std::string> ids;
  for (int ws = 0; ws < 40; ++ws) {
    seed("w" + std::to_string(ws), 2);
    for (int i = 0; i < 2; ++i) ids.push_back("w" + std::to_string(ws) + "-" + std::to_string(i));
  }
  auto writes = rewrite(ids);
  write(writes);
  CHECK(store.last_batch_kind == cosmos::BatchKind::kBulk);
  CHECK(store.batches > 1);
  CHECK(store.batches <= 8);  // at most one request per range: not one per partition key value
  std::size_t sent = 0;
  for (std::size_t size : store.batch_sizes) sent += size;
  CHECK(sent + static_cast<std::size_t>(store.single_writes) == ids.size());
  for (const auto& id : ids) CHECK(encrypted(id));
}

TEST_CASE_FIXTURE(Fixture, "a bulk batch whose range split is routed again to the children") {
  store.ranges.reset(2);
  std::vector<std::string> ids;
  for (int ws = 0; ws < 20; ++ws) {
    seed("w" + std::to_string(ws), 1);
    ids.push_back("w" + std::to_string(ws) + "-0");
  }
  auto writes = rewrite(ids);
  DocumentWriter writer(store, transform, container, settings, "test/notes", retry_scope);
  WriteStats stats;
  std::size_t inflight = 0;
  // The writer learns the two ranges, then range 0 splits before the batch goes out.
  bool split = false;
  store.throttle_request = [&](std::string_view operation) {
    if (operation == "batch" && !split) split = store.ranges.split("0");
    return 0;
  };
  CHECK(testing::run_sync(io, writer.write_all(writes, stats, inflight, store)));
  CHECK(split);
  CHECK(store.range_reads >= 2);  // read again after the 410
  for (const auto& id : ids) CHECK(encrypted(id));
  for (const PendingWrite& write : writes) CHECK(write.state == State::kDone);
}

TEST_CASE_FIXTURE(Fixture, "a refused batch request falls back to single writes") {
  store.refuse_batches = true;
  seed("a", 3);
  auto writes = rewrite(ids("a", 3));
  write(writes);
  CHECK(store.batches == 1);
  CHECK(store.single_writes == 3);
  for (const auto& id : ids("a", 3)) CHECK(encrypted(id));
}

TEST_CASE_FIXTURE(Fixture, "single mode sends one conditional PUT per document") {
  settings.write_mode = WriteMode::kSingle;
  seed("a", 3);
  auto writes = rewrite(ids("a", 3));
  write(writes);
  CHECK(store.batches == 0);
  CHECK(store.single_writes == 3);
  CHECK(store.replaces == 3);
}

TEST_CASE_FIXTURE(Fixture, "a failing operation fails its document, not the others") {
  settings.write_mode = WriteMode::kBatch;
  seed("a", 3);
  store.fail_replace = [](const std::string& id) { return id == "a-1"; };
  auto writes = rewrite(ids("a", 3));
  write(writes);
  CHECK(writes[0].state == State::kDone);
  CHECK(writes[1].state == State::kFailed);
  CHECK(writes[2].state == State::kDone);
  CHECK(!encrypted("a-1"));
}

TEST_CASE("sustained throttling slows writes down and fails none") {
  // A 400 RU/s container shared with another job: whole requests and operations inside batches
  // answer 429 far more than ten times in a row; every document is written, none is an error,
  // and no batch is split into single writes because of it.
  for (WriteMode mode : {WriteMode::kBatch, WriteMode::kBulk, WriteMode::kSingle}) {
    CAPTURE(to_string(mode));
    Fixture fixture;
    fixture.settings.write_mode = mode;
    fixture.seed("a", 5);
    fixture.seed("b", 5);
    int requests = 0;
    fixture.store.throttle_request = [&](std::string_view) { return ++requests <= 25 ? 429 : 0; };
    std::map<std::string, int> operations;
    fixture.store.throttle_in_batch = [&](const std::string& id) {
      return ++operations[id] <= 12 ? (operations[id] % 2 == 0 ? 429 : 503) : 0;
    };
    auto all = ids("a", 5);
    for (const auto& id : ids("b", 5)) all.push_back(id);
    auto writes = fixture.rewrite(all);
    fixture.write(writes);
    CHECK(fixture.completed);
    CHECK(fixture.store.throttled >= 25);
    for (const auto& write : writes) CHECK(write.state == State::kDone);
    for (const auto& id : all) CHECK(fixture.encrypted(id));
    if (mode != WriteMode::kSingle) CHECK(fixture.store.single_writes == 0);
  }
}

TEST_CASE_FIXTURE(Fixture, "a throttled 412 re-read waits and keeps the conflict budget") {
  settings.write_mode = WriteMode::kSingle;
  seed("a", 1);
  auto writes = rewrite(ids("a", 1));
  store.put(note("a-0", "a", "changed by the app"));  // the write meets a 412
  int reads = 0;
  store.throttle_request = [&](std::string_view operation) {
    return operation == "read" && ++reads <= 20 ? 429 : 0;
  };
  write(writes);
  CHECK(completed);
  CHECK(writes[0].state == State::kDone);
  CHECK(encrypted("a-0"));
}

TEST_CASE_FIXTURE(Fixture, "an interrupted wait leaves the page unwritten, nothing failed") {
  settings.write_mode = WriteMode::kBatch;
  seed("a", 3);
  store.throttle_request = [&](std::string_view) {
    interrupted = true;  // the job is paused while its batch is throttled
    return 429;
  };
  auto writes = rewrite(ids("a", 3));
  write(writes);
  CHECK_FALSE(completed);
  for (const auto& write : writes) CHECK(write.state == State::kPending);
  CHECK(store.single_writes == 0);
}

TEST_CASE("write modes parse and print") {
  for (auto mode : {WriteMode::kAuto, WriteMode::kBatch, WriteMode::kBulk, WriteMode::kSingle}) {
    CHECK(parse_write_mode(to_string(mode)) == mode);
  }
  CHECK(!parse_write_mode("fast"));
}

}  // namespace backfilld::engine
