// Fuzz target: raw bytes as one HTTP/1.1 request to the control plane. The bytes go through
// Beast's request parser with the server's limits (api::ServerLimits); a request that parses is
// routed (api::Router with every job route of api::add_job_routes) and handled by a JobManager
// over the fake document store. Whatever the bytes, nothing crashes or hangs, and every answer
// is a JSON body with a status below 500 (garbage gets a 4xx; a handler that throws would be a
// 500, and that is a bug here).
#include <spdlog/spdlog.h>

// The fake store asserts with doctest (never reached here: no job runs); its implementation
// must be linked in.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/jobs_api.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "daemon/common/json.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "tests/support/fake_document_store.hpp"
#include "tests/support/memory_state_store.hpp"
#include "tests/support/run_sync.hpp"

namespace {

using namespace backfilld;

[[noreturn]] void fail(std::string_view what, const api::Response& response) {
  std::fprintf(stderr, "http_request_fuzz: %.*s: status %u, body %.200s\n",
               static_cast<int>(what.size()), what.data(), response.result_int(),
               response.body().c_str());
  std::abort();
}

/// One daemon's control plane, built once: jobs a fuzz input submits stay queued (no job runs,
/// so an input's effect is only what the handlers do).
struct ControlPlane {
  net::io_context io;
  testing::FakeDocumentStore store;
  testing::MemoryStateStore states;
  metrics::Metrics metrics;
  engine::SystemClock clock;
  std::unique_ptr<jobs::JobManager> manager;
  api::Router router;

  ControlPlane() {
    // Logs cost more than the handlers; FUZZ_VERBOSE=1 keeps them and prints each answer.
    if (std::getenv("FUZZ_VERBOSE") == nullptr) spdlog::set_level(spdlog::level::off);
    crypto::KeyBytes key{};
    key.fill(7);
    jobs::KeyState keys{std::make_unique<crypto::StaticKeyring>(
                            "env", "k1", std::map<std::string, crypto::KeyBytes>{{"k1", key}}),
                        true,
                        {}};
    jobs::ManagerOptions options{.max_running_jobs = 0,
                                 .max_jobs_per_container = 1,
                                 .require_dry_run = true,
                                 .default_database = "db",
                                 .environment = "fuzz",
                                 .build_commit = "fuzz",
                                 .default_knobs = {}};
    manager = std::make_unique<jobs::JobManager>(io.get_executor(), store, states, metrics, clock,
                                                 std::move(keys), options);
    api::add_job_routes(router, *manager, metrics,
                        {.manifest_dir = {}, .ready = [] { return true; }});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ControlPlane plane;
  const api::ServerLimits limits;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
  parser.body_limit(limits.body_limit);
  parser.eager(true);
  beast::error_code ec;
  std::size_t used = parser.put(net::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  (void)used;
  // Unparseable bytes: the server answers 400/413/431 from the parser's error and closes.
  if (ec || !parser.is_done()) return 0;

  api::Request request{parser.release(), api::Caller::token, {}, 1};
  if (!request.message.target().starts_with("/")) return 0;  // the server's 400 before routing
  std::optional<api::Response> response;
  net::co_spawn(plane.io, plane.router.dispatch(request),
                [&](std::exception_ptr error, api::Response result) {
                  if (error) std::abort();  // a handler threw: the server would answer 500
                  response = std::move(result);
                });
  if (!testing::run_until(
          plane.io, [&] { return response.has_value(); }, 100'000)) {
    std::fprintf(stderr, "http_request_fuzz: the handler did not finish\n");
    std::abort();
  }
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s %s -> %u\n", std::string(request.message.method_string()).c_str(),
                 std::string(request.message.target()).c_str(), response->result_int());
  }
  if (response->result_int() >= 500) fail("server error", *response);
  if (response->result_int() >= 400) {
    auto body = common::parse_json(response->body());
    if (!body.ok() || !body->IsObject() || !body->HasMember("error"))
      fail("error is not JSON", *response);
  }
  return 0;
}
