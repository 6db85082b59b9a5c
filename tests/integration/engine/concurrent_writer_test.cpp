// The 412 path against the real local server: an application writes a document between the
// runner's read and its write; the application's write survives and is then encrypted.
#include <doctest/doctest.h>

#include <set>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/client.hpp"
#include "daemon/crypto/envelope.hpp"
#include "daemon/engine/container_runner.hpp"
#include "migrations/envelope_fields.hpp"
#include "migrations/transform.hpp"
#include "tests/support/local_cosmos.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::engine {
namespace {

using testing::run_sync;

cosmos::PartitionKey key_of(const std::string& workspace) {
  return cosmos::PartitionKey::of(
      rapidjson::Value(rapidjson::StringRef(workspace.data(), workspace.size())));
}

std::string note(int index, const std::string& body, bool edited) {
  return R"({"id":"note-)" + std::to_string(index) + R"(","workspaceId":"ws-)" +
         std::to_string(index % 5) + R"(","userId":"u-)" + std::to_string(index % 3) +
         R"(","productId":"notelett","body":")" + body + R"(")" +
         (edited ? R"(,"editedByApp":true)" : "") + "}";
}

/// The real client, with an application that updates some documents (in plaintext, as an old
/// app version would) just before the runner writes them.
class RacingApplication final : public cosmos::DocumentStore {
 public:
  RacingApplication(cosmos::Client& client, std::set<int> victims)
      : client_(client), victims_(std::move(victims)) {}

  net::awaitable<cosmos::Result<cosmos::QueryPage>> query_documents(
      const cosmos::QueryRequest& request) override {
    co_return co_await client_.query_documents(request);
  }
  net::awaitable<cosmos::Result<cosmos::DocumentRead>> read_document(
      const cosmos::ContainerRef& container,
      std::string_view id,
      const cosmos::PartitionKey& key) override {
    co_return co_await client_.read_document(container, id, key);
  }
  net::awaitable<cosmos::Result<std::vector<cosmos::PartitionKeyRange>>> read_partition_key_ranges(
      const cosmos::ContainerRef& container) override {
    co_return co_await client_.read_partition_key_ranges(container);
  }
  net::awaitable<cosmos::Result<cosmos::WriteAck>> upsert_document(
      const cosmos::ContainerRef& container,
      const cosmos::PartitionKey& key,
      std::string body) override {
    co_return co_await client_.upsert_document(container, key, std::move(body));
  }
  net::awaitable<cosmos::Result<bool>> create_container(std::string_view database,
                                                        std::string_view id,
                                                        std::string_view path) override {
    co_return co_await client_.create_container(database, id, path);
  }
  net::awaitable<cosmos::Result<cosmos::WriteAck>> replace_document(
      const cosmos::ContainerRef& container,
      std::string_view id,
      const cosmos::PartitionKey& key,
      std::string body,
      std::string_view if_match) override {
    co_await race(container, id, key);
    auto ack = co_await client_.replace_document(container, id, key, std::move(body), if_match);
    if (!ack && ack.error().is_precondition_failed()) ++conflicts;
    co_return ack;
  }
  net::awaitable<cosmos::Result<cosmos::BatchResponse>> execute_batch(
      const cosmos::BatchRequest& request) override {
    ++batches;
    for (const cosmos::WriteOperation* operation : request.operations) {
      co_await race(request.container, operation->id, operation->key);
    }
    auto response = co_await client_.execute_batch(request);
    if (response) {
      for (const auto& result : response->results) conflicts += result.status == 412 ? 1 : 0;
    }
    co_return response;
  }

  int app_writes = 0;
  int conflicts = 0;
  int batches = 0;

 private:
  /// The application's write, just before ours, to the victims.
  net::awaitable<void> race(const cosmos::ContainerRef& container,
                            std::string_view id,
                            const cosmos::PartitionKey& key) {
    const int index = std::stoi(std::string(id.substr(5)));
    if (victims_.erase(index) > 0) {
      auto app_write = co_await client_.upsert_document(
          container, key, note(index, "app edit " + std::to_string(index), true));
      REQUIRE(app_write.ok());
      ++app_writes;
    }
  }

  cosmos::Client& client_;
  std::set<int> victims_;
};

}  // namespace

TEST_CASE("a concurrent application write survives the backfill and is then encrypted") {
  net::io_context io;
  const auto cosmos = testing::local_cosmos();
  auto created = cosmos::Client::create(io.get_executor(), cosmos.client_options());
  REQUIRE(created.ok());
  cosmos::Client& client = **created;
  const cosmos::ContainerRef notes{testing::unique_name("race"), "notes"};
  REQUIRE(run_sync(io, client.create_database(notes.database)).ok());
  REQUIRE(run_sync(io, client.create_container(notes.database, "notes", "/workspaceId")).ok());
  constexpr int kNotes = 120;
  for (int i = 0; i < kNotes; ++i) {
    const std::string workspace = "ws-" + std::to_string(i % 5);
    REQUIRE(run_sync(io, client.upsert_document(notes, key_of(workspace),
                                                note(i, "original " + std::to_string(i), false)))
                .ok());
  }

  crypto::KeyBytes key{};
  key.fill(9);
  const crypto::StaticKeyring keyring("env", "k1", {{"k1", key}});
  migrations::Manifest manifest;
  manifest.id = "race";
  manifest.kind = "encrypt-fields";
  manifest.product_id = "notelett";
  migrations::ContainerSpec spec{
      .name = "notes",
      .partition_key_path = "/workspaceId",
      .settings = migrations::EnvelopeFields{
          .fields = {"body"}, .context = "notes", .user_id_field = "userId", .skip_owners = {}}};
  manifest.containers = {spec};
  auto transform = migrations::make_transform(manifest, spec, &keyring);
  REQUIRE(transform.ok());

  const std::set<int> victims = {3, 47, 48, 99};
  RacingApplication store(client, victims);
  SystemClock clock;
  RunSettings settings{.batch_size = 25, .write_concurrency = 8};
  // The local server answers a batch in order and stops at the first failure (424 after it),
  // applying what came before: the engine must get every mode right on per-operation statuses.
  SUBCASE("single PUTs") { settings.write_mode = WriteMode::kSingle; }
  SUBCASE("atomic batches per partition key value") { settings.write_mode = WriteMode::kBatch; }
  SUBCASE("bulk (auto: the local server has one range)") { settings.write_mode = WriteMode::kAuto; }
  ContainerRunner runner(store, **transform,
                         RunTarget{.job_label = "race/notes",
                                   .container = notes,
                                   .partition_key_path = "/workspaceId",
                                   .product_id = "notelett",
                                   .stop = {},
                                   .mode = migrations::Mode::kLive,
                                   .rewritten_name = "encrypted"},
                         settings, clock);
  const RunOutcome outcome = run_sync(io, runner.run());
  REQUIRE(outcome.status == RunStatus::kSucceeded);
  CHECK(store.app_writes == 4);
  CHECK(store.conflicts == 4);
  CHECK((store.batches > 0) == (settings.write_mode != WriteMode::kSingle));
  CHECK(runner.progress().counts.rewritten == kNotes);
  CHECK(runner.progress().counts.errors == 0);

  for (int i = 0; i < kNotes; ++i) {
    auto read = run_sync(io, client.read_document(notes, "note-" + std::to_string(i),
                                                  key_of("ws-" + std::to_string(i % 5))));
    REQUIRE(read.ok());
    const bool victim = victims.contains(i);
    CHECK(read->document.HasMember("editedByApp") == victim);  // the app's write survived
    auto envelope = crypto::parse_envelope(read->document["body"]);
    REQUIRE(envelope.ok());
    const std::string owner = "u-" + std::to_string(i % 3);
    auto plaintext = crypto::open(keyring, *envelope, crypto::make_aad("notes", owner));
    REQUIRE(plaintext.ok());
    const std::string expected =
        std::string("\"") + (victim ? "app edit " : "original ") + std::to_string(i) + "\"";
    CHECK(*plaintext == expected);  // encrypted once, from the value that won
  }
}

}  // namespace backfilld::engine
