#include "api/jobs_api.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "api/errors.hpp"
#include "api/handlers.hpp"
#include "api/message.hpp"
#include "api/throttle_api.hpp"
#include "daemon/common/json.hpp"

namespace backfilld::api {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

/// The knobs a submission's `knobs` and a PATCH may set.
const std::set<std::string_view> kKnobFields = {"batchSize",
                                                "writeConcurrency",
                                                "rangeConcurrency",
                                                "maxDocumentsPerSecond",
                                                "maxRequestUnitsPerSecond",
                                                "maxThroughputFraction",
                                                "writeMode"};

common::Result<jobs::KnobPatch> knob_patch(const rapidjson::Value& body) {
  jobs::KnobPatch patch;
  auto ranges = optional_count(body, "rangeConcurrency");
  if (!ranges) return common::Unexpected{ranges.error()};
  patch.range_concurrency = *ranges;
  auto batch_size = optional_count(body, "batchSize");
  if (!batch_size) return common::Unexpected{batch_size.error()};
  auto concurrency = optional_count(body, "writeConcurrency");
  if (!concurrency) return common::Unexpected{concurrency.error()};
  auto documents = optional_number(body, "maxDocumentsPerSecond");
  if (!documents) return common::Unexpected{documents.error()};
  auto request_units = optional_number(body, "maxRequestUnitsPerSecond");
  if (!request_units) return common::Unexpected{request_units.error()};
  patch.batch_size = *batch_size;
  patch.write_concurrency = *concurrency;
  patch.max_documents_per_second = *documents;
  patch.max_request_units_per_second = *request_units;
  auto fraction = optional_number(body, "maxThroughputFraction");
  if (!fraction) return common::Unexpected{fraction.error()};
  patch.max_throughput_fraction = *fraction;
  auto write_mode = optional_string(body, "writeMode");
  if (!write_mode) return common::Unexpected{write_mode.error()};
  if (!write_mode->empty()) {
    patch.write_mode = engine::parse_write_mode(*write_mode);
    if (!patch.write_mode) {
      return common::fail("invalid_request", "writeMode: must be auto, batch, bulk or single");
    }
  }
  if (auto valid = engine::validate(patch); !valid) return common::Unexpected{valid.error()};
  return patch;
}

Response status_of(const jobs::JobManager& manager, const jobs::Job& job, http::status status) {
  rapidjson::Document body;
  to_status_json(job, manager.live(job), body, body.GetAllocator());
  return json_response(status, body);
}

Response submit(jobs::JobManager& manager, const JobsApiOptions& options, const Request& request) {
  auto body = parse_json_body(request);
  if (!body) return error_response(body.error());
  if (!body->IsObject()) return fail("invalid_request", "body: must be a JSON object");
  if (auto known = only_known(*body, {"manifest", "manifestPath", "dryRun", "operator",
                                      "backupConfirmed", "container", "knobs"});
      !known) {
    return error_response(known.error());
  }
  const rapidjson::Value* inline_manifest = common::find_member(*body, "manifest");
  auto manifest_path = optional_string(*body, "manifestPath");
  if (!manifest_path) return error_response(manifest_path.error());
  if ((inline_manifest != nullptr) == !manifest_path->empty()) {
    return fail("invalid_request", "exactly one of manifest and manifestPath is required");
  }
  common::Result<migrations::Manifest> manifest = common::fail("", "");
  if (inline_manifest != nullptr) {
    manifest = migrations::parse_manifest(*inline_manifest);
  } else {
    if (options.manifest_dir.empty()) {
      return fail("forbidden",
                  "manifestPath: this daemon has no manifest directory; send the manifest");
    }
    // Confined by the kernel as it opens the file: no `..`, absolute path or symlink leads out.
    manifest = migrations::load_manifest_beneath(options.manifest_dir, *manifest_path);
  }
  if (!manifest) return error_response(manifest.error());

  jobs::SubmitRequest submission;
  submission.manifest = std::move(manifest.value());
  if (const rapidjson::Value* dry_run = common::find_member(*body, "dryRun")) {
    if (!dry_run->IsBool()) return fail("invalid_request", "dryRun: must be true or false");
    submission.dry_run = dry_run->GetBool();
  }
  for (auto [name, target] : {std::pair{"operator", &submission.operator_name},
                              std::pair{"backupConfirmed", &submission.backup_confirmed},
                              std::pair{"container", &submission.container}}) {
    auto value = optional_string(*body, name);
    if (!value) return error_response(value.error());
    *target = std::move(value.value());
  }
  if (const rapidjson::Value* knobs = common::find_member(*body, "knobs")) {
    if (!knobs->IsObject()) return fail("invalid_request", "knobs: must be an object");
    if (auto known = only_known(*knobs, kKnobFields); !known) {
      return fail("invalid_request", "knobs." + known.error().message);
    }
    auto patch = knob_patch(*knobs);
    if (!patch) return fail("invalid_request", "knobs." + patch.error().message);
    engine::RunSettings settings;
    settings.batch_size = submission.manifest.batch_size;
    settings = engine::apply(settings, *patch);
    submission.knobs = settings;
  }
  const std::string who = submission.operator_name.empty() ? "unknown" : submission.operator_name;
  const std::string action =
      std::string(submission.dry_run ? "submit dry run " : "submit live ") + submission.manifest.id;
  auto ids = manager.submit(std::move(submission));
  if (!ids) {
    audit(request, who, action, "refused: " + ids.error().message);
    return error_response(ids.error());
  }
  rapidjson::Document response(rapidjson::kObjectType);
  rapidjson::Value list(rapidjson::kArrayType);
  std::string joined;
  for (const std::string& id : *ids) {
    list.PushBack(rapidjson::Value(id.c_str(), response.GetAllocator()), response.GetAllocator());
    joined += (joined.empty() ? "" : ",") + id;
  }
  response.AddMember("jobs", list, response.GetAllocator());
  audit(request, who, action, "created " + joined);
  return json_response(http::status::created, response);
}

/// pause, resume and stop share their shape.
Handler control(jobs::JobManager& manager,
                std::string_view action,
                common::Result<void> (jobs::JobManager::*operation)(std::string_view,
                                                                    std::string_view)) {
  return sync([&manager, action = std::string(action), operation](const Request& request,
                                                                  const PathParams& params) {
    auto body = optional_body(request);
    if (!body) return error_response(body.error());
    if (auto known = only_known(*body, {"operator"}); !known) return error_response(known.error());
    const std::string id(params.at("id"));
    const std::string who = operator_of(request, *body);
    auto done = (manager.*operation)(id, who);
    audit(request, who, action + " " + id, done ? "ok" : "refused: " + done.error().message);
    if (!done) return error_response(done.error());
    return status_of(manager, *manager.find(id), http::status::ok);
  });
}

}  // namespace

void add_job_routes(Router& router,
                    jobs::JobManager& manager,
                    metrics::Metrics& metrics,
                    JobsApiOptions options) {
  auto shared_options = std::make_shared<JobsApiOptions>(std::move(options));
  // Every route that touches the job manager goes through the jobs' thread.
  auto add = [&](http::verb method, std::string_view pattern, Handler handler) {
    router.add(method, pattern, on_jobs_thread(*shared_options, manager, std::move(handler)));
  };

  add_throttle_routes(add, manager);
  add(http::verb::post, "/v1/jobs",
      sync([&manager, shared_options](const Request& request, const PathParams&) {
        return submit(manager, *shared_options, request);
      }));
  if (jobs::StatusBoard* board = shared_options->board) {
    router.add(http::verb::get, "/v1/jobs", sync([board](const Request&, const PathParams&) {
                 return json_response(http::status::ok, board->read()->list_json());
               }));
    router.add(http::verb::get, "/v1/jobs/{id}",
               sync([board](const Request&, const PathParams& params) {
                 const auto snapshot = board->read();
                 if (const std::string* status = snapshot->find(params.at("id"))) {
                   return json_response(http::status::ok, *status);
                 }
                 return fail("not_found", "no job " + std::string(params.at("id")));
               }));
  } else {
    router.add(http::verb::get, "/v1/jobs", sync([&manager](const Request&, const PathParams&) {
                 rapidjson::Document body(rapidjson::kObjectType);
                 auto& allocator = body.GetAllocator();
                 rapidjson::Value list(rapidjson::kArrayType);
                 for (const jobs::Job* job : manager.list()) {
                   rapidjson::Value status;
                   to_status_json(*job, manager.live(*job), status, allocator);
                   list.PushBack(status, allocator);
                 }
                 for (const jobs::SetAsideJob& job : manager.set_aside_jobs()) {
                   rapidjson::Value status;
                   to_status_json(job, status, allocator);
                   list.PushBack(status, allocator);
                 }
                 body.AddMember("jobs", list, allocator);
                 return json_response(http::status::ok, body);
               }));
    router.add(http::verb::get, "/v1/jobs/{id}",
               sync([&manager](const Request&, const PathParams& params) {
                 const jobs::Job* job = manager.find(params.at("id"));
                 if (job != nullptr) return status_of(manager, *job, http::status::ok);
                 if (const jobs::SetAsideJob* aside = manager.find_set_aside(params.at("id"))) {
                   rapidjson::Document body;
                   to_status_json(*aside, body, body.GetAllocator());
                   return json_response(http::status::ok, body);
                 }
                 return fail("not_found", "no job " + std::string(params.at("id")));
               }));
  }
  add(http::verb::patch, "/v1/jobs/{id}",
      sync([&manager](const Request& request, const PathParams& params) {
        auto body = optional_body(request);
        if (!body) return error_response(body.error());
        std::set<std::string_view> allowed = kKnobFields;
        allowed.insert("operator");
        if (auto known = only_known(*body, allowed); !known) {
          return error_response(known.error());
        }
        auto patch = knob_patch(*body);
        if (!patch) return error_response(patch.error());
        const std::string id(params.at("id"));
        const std::string who = operator_of(request, *body);
        auto done = manager.patch(id, *patch, who);
        audit(request, who, "patch " + id + " " + common::to_json(*body),
              done ? "ok" : "refused: " + done.error().message);
        if (!done) return error_response(done.error());
        return status_of(manager, *manager.find(id), http::status::ok);
      }));
  add(http::verb::post, "/v1/jobs/{id}/pause", control(manager, "pause", &jobs::JobManager::pause));
  add(http::verb::post, "/v1/jobs/{id}/resume",
      control(manager, "resume", &jobs::JobManager::resume));
  add(http::verb::post, "/v1/jobs/{id}/stop", control(manager, "stop", &jobs::JobManager::stop));
  add(http::verb::get, "/v1/jobs/{id}/report",
      sync([&manager](const Request&, const PathParams& params) {
        const jobs::Job* job = manager.find(params.at("id"));
        if (job == nullptr) {
          if (const jobs::SetAsideJob* aside = manager.find_set_aside(params.at("id"))) {
            return fail("conflict",
                        "job " + aside->id + " has no release record: " + aside->reason);
          }
          return fail("not_found", "no job " + std::string(params.at("id")));
        }
        const jobs::Job* dry_run =
            job->dry_run_job.empty() ? nullptr : manager.find(job->dry_run_job);
        rapidjson::Document body;
        to_report_json(*job, dry_run, body, body.GetAllocator());
        return json_response(http::status::ok, body);
      }));
  router.add(http::verb::get, "/healthz", sync([](const Request&, const PathParams&) {
               return json_response(http::status::ok, std::string(R"({"status":"ok"})"));
             }));
  add(http::verb::get, "/readyz", sync([shared_options](const Request&, const PathParams&) {
        const bool ready = !shared_options->ready || shared_options->ready();
        return ready ? json_response(http::status::ok, std::string(R"({"status":"ready"})"))
                     : fail("unavailable", "not ready: starting or shutting down");
      }));
  add(http::verb::get, "/metrics", sync([&manager, &metrics](const Request&, const PathParams&) {
        manager.sample_metrics();
        return text_response(http::status::ok, metrics.serialize(),
                             "text/plain; version=0.0.4; charset=utf-8");
      }));
}

}  // namespace backfilld::api
