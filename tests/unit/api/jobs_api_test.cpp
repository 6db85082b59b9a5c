#include "api/jobs_api.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <system_error>
#include <thread>

#include "daemon/common/json.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/memory_state_store.hpp"
#include "tests/support/run_sync.hpp"

namespace backfilld::api {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kManifest =
    R"({"id": "m1", "kind": "encrypt-fields", "filter": {"productId": "notelett"},)"
    R"( "rollback": "forward-only", "containers": [{"name": "notes", "partitionKeyPath": "/ws",)"
    R"( "fields": ["body"], "context": "notes", "userIdField": "userId"}]})";

/// The control plane's job routes over a JobManager that runs nothing (no slots), with a
/// manifest directory holding good.json, a ConfigMap-style link and links that leave it.
struct ControlPlane {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MemoryStateStore states;
  metrics::Metrics metrics;
  engine::SystemClock clock;
  fs::path root;
  std::unique_ptr<jobs::JobManager> manager;
  Router router;

  ControlPlane() {
    std::string pattern = (fs::temp_directory_path() / "backfilld-jobs-api-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root = pattern;
    const fs::path dir = root / "manifests";
    fs::create_directories(dir / "..2024_01_01");
    std::ofstream(dir / "good.json") << kManifest;
    std::ofstream(dir / "..2024_01_01" / "cm.json") << kManifest;
    std::ofstream(root / "outside.json") << kManifest;
    fs::create_directory_symlink("..2024_01_01", dir / "..data");
    fs::create_symlink("..data/cm.json", dir / "cm.json");
    fs::create_symlink("../outside.json", dir / "escape.json");
    fs::create_symlink((root / "outside.json").string(), dir / "absolute-escape.json");
    fs::create_directory_symlink("..", dir / "up");
  }
  ~ControlPlane() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }

  /// Builds the manager (after the test filled `states`), restores it, adds the routes.
  void start() {
    jobs::ManagerOptions options;
    options.max_running_jobs = 0;
    options.default_database = "db";
    manager = std::make_unique<jobs::JobManager>(io.get_executor(), store, states, metrics, clock,
                                                 jobs::KeyState{}, options);
    REQUIRE(manager->restore().ok());
    add_job_routes(router, *manager, metrics,
                   {.manifest_dir = root / "manifests", .ready = [] { return true; }});
  }

  Response call(http::verb method, std::string target, std::string body = {}) {
    return call_on(io, method, std::move(target), std::move(body));
  }

  /// The request served by a server running on `server_io`.
  Response call_on(net::io_context& server_io,
                   http::verb method,
                   std::string target,
                   std::string body = {}) {
    http::request<http::string_body> message(method, target, 11);
    if (!body.empty()) message.set(http::field::content_type, "application/json");
    message.body() = std::move(body);
    message.prepare_payload();
    const Request request{std::move(message), Caller::token, {}, 1};
    return testing::run_sync(server_io, router.dispatch(request));
  }

  /// The error code of a JSON error answer.
  static std::string error_code(const Response& response) {
    auto body = common::parse_json(response.body());
    REQUIRE_MESSAGE(body.ok(), response.body());
    return std::string(*common::string_member((*body)["error"], "code"));
  }
};

std::string submission(std::string_view manifest_path) {
  return R"({"manifestPath": ")" + std::string(manifest_path) +
         R"(", "dryRun": true, "operator": "alice"})";
}

}  // namespace

TEST_CASE_FIXTURE(ControlPlane, "bodies nested 100,000 levels deep get 400, and the next works") {
  start();
  const std::string deep_array = std::string(100'000, '[') + std::string(100'000, ']');
  std::string deep_object;
  for (int i = 0; i < 100'000; ++i) deep_object += R"({"a":)";
  deep_object += "0" + std::string(100'000, '}');
  for (const std::string& deep : {deep_array, R"({"manifest": )" + deep_array + "}", deep_object}) {
    for (const auto& route : {std::pair{http::verb::post, "/v1/jobs"},
                              std::pair{http::verb::patch, "/v1/jobs/job-000001-abcd"},
                              std::pair{http::verb::post, "/v1/jobs/job-000001-abcd/pause"}}) {
      CAPTURE(route.second);
      const Response refused = call(route.first, route.second, deep);
      CHECK(refused.result() == http::status::bad_request);
      CHECK(error_code(refused) == "invalid_json");
      CHECK(refused.body().find("nested deeper than 256 levels") != std::string::npos);
    }
  }
  CHECK(call(http::verb::get, "/healthz").result() == http::status::ok);
  CHECK(call(http::verb::post, "/v1/jobs", submission("good.json")).result() ==
        http::status::created);
}

TEST_CASE_FIXTURE(ControlPlane, "a manifestPath that leaves the manifest directory gets 403") {
  start();
  for (const std::string& path :
       {std::string("escape.json"), std::string("absolute-escape.json"),
        std::string("up/outside.json"), std::string("../outside.json"),
        std::string("..data/../../outside.json"), (root / "outside.json").string()}) {
    CAPTURE(path);
    const Response refused = call(http::verb::post, "/v1/jobs", submission(path));
    CHECK(refused.result() == http::status::forbidden);
    CHECK(error_code(refused) == "forbidden");
  }
  CHECK(manager->list().empty());
  // A ConfigMap volume's files are links into ..data/ inside the directory: they work.
  const Response created = call(http::verb::post, "/v1/jobs", submission("cm.json"));
  CHECK_MESSAGE(created.result() == http::status::created, created.body());
  const Response missing = call(http::verb::post, "/v1/jobs", submission("absent.json"));
  CHECK(missing.result() == http::status::unprocessable_entity);
  CHECK(missing.body().find("manifest file \\\"absent.json\\\": cannot read: No such file") !=
        std::string::npos);
}

TEST_CASE_FIXTURE(ControlPlane, "a job whose state file cannot be loaded is listed as failed") {
  states.records["job-000007-beef"] = R"({"version": 1, "id": "job-000007-be)";  // truncated
  start();
  const Response list = call(http::verb::get, "/v1/jobs");
  REQUIRE(list.result() == http::status::ok);
  auto body = common::parse_json(list.body());
  REQUIRE(body.ok());
  const rapidjson::Value& jobs = (*body)["jobs"];
  REQUIRE(jobs.Size() == 1);
  CHECK(*common::string_member(jobs[0], "id") == "job-000007-beef");
  CHECK(*common::string_member(jobs[0], "state") == "failed");
  CHECK(common::string_member(jobs[0], "reason")->starts_with("state file cannot be loaded: "));
  CHECK(*common::string_member(jobs[0], "stateFile") == "corrupt/job-000007-beef.json");

  const Response one = call(http::verb::get, "/v1/jobs/job-000007-beef");
  CHECK(one.result() == http::status::ok);
  CHECK(one.body().find(R"("state":"failed")") != std::string::npos);
  const Response pause = call(http::verb::post, "/v1/jobs/job-000007-beef/pause");
  CHECK(pause.result() == http::status::conflict);
  CHECK(call(http::verb::get, "/v1/jobs/job-000007-beef/report").result() ==
        http::status::conflict);
  // A new job does not take the set-aside job's number.
  const Response created = call(http::verb::post, "/v1/jobs", submission("good.json"));
  REQUIRE(created.result() == http::status::created);
  CHECK(created.body().find("job-000008-") != std::string::npos);
}

TEST_CASE_FIXTURE(ControlPlane,
                  "with a status board, GETs never wait for the jobs' thread; changes republish") {
  // The jobs' thread is `io`, run by a thread of its own; the control plane is `control`. A
  // GET answers from the board even while the jobs' thread is held up (here: blocked in a
  // handler), and a submission made through the control plane is visible to the next GET.
  net::io_context control;
  jobs::StatusBoard board;
  jobs::ManagerOptions manager_options;
  manager_options.max_running_jobs = 0;
  manager_options.default_database = "db";
  manager = std::make_unique<jobs::JobManager>(io.get_executor(), store, states, metrics, clock,
                                               jobs::KeyState{}, manager_options);
  REQUIRE(manager->restore().ok());
  add_job_routes(router, *manager, metrics,
                 {.manifest_dir = root / "manifests",
                  .ready = [] { return true; },
                  .jobs_executor = io.get_executor(),
                  .board = &board});
  auto jobs_work = net::make_work_guard(io);
  std::thread jobs_thread([&] { io.run(); });
  auto on_control = [&](http::verb method, std::string target, std::string body = {}) {
    return call_on(control, method, std::move(target), std::move(body));
  };
  const Response created = on_control(http::verb::post, "/v1/jobs", submission("good.json"));
  REQUIRE_MESSAGE(created.result() == http::status::created, created.body());
  auto ids = common::parse_json(created.body());
  REQUIRE((*ids)["jobs"][0].IsString());
  const std::string id((*ids)["jobs"][0].GetString());
  REQUIRE_FALSE(id.empty());
  CHECK(on_control(http::verb::get, "/v1/jobs/" + id).result() == http::status::ok);

  // Hold the jobs' thread: GETs still answer, from the board.
  std::promise<void> release;
  std::promise<void> held;
  net::post(io, [&] {
    held.set_value();
    release.get_future().wait();
  });
  held.get_future().wait();
  const Response one = on_control(http::verb::get, "/v1/jobs/" + id);
  CHECK(one.result() == http::status::ok);
  CHECK(one.body().find(R"("dryRun":true)") != std::string::npos);
  const Response list = on_control(http::verb::get, "/v1/jobs");
  CHECK(list.body().find(id) != std::string::npos);
  CHECK(on_control(http::verb::get, "/v1/jobs/job-999999-dead").result() ==
        http::status::not_found);
  release.set_value();

  // A change goes through the jobs' thread and is published before it is answered.
  const Response paused = on_control(http::verb::post, "/v1/jobs/" + id + "/pause");
  CHECK(paused.result() == http::status::ok);
  CHECK(board.read()->find(id)->find(R"("pauseRequested":true)") != std::string::npos);
  jobs_work.reset();
  io.stop();
  jobs_thread.join();
}

}  // namespace backfilld::api
