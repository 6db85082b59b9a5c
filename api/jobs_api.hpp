#pragma once
/// The job endpoints of the control plane (paths pinned in DESIGN.md), plus the probes and
/// /metrics, registered on a Router.
#include <filesystem>
#include <functional>
#include <optional>

#include "api/router.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "daemon/jobs/status_board.hpp"
#include "daemon/metrics/metrics.hpp"

namespace backfilld::api {

struct JobsApiOptions {
  /// `manifestPath` in a submission is resolved under this directory (e.g. a mounted ConfigMap);
  /// empty: only inline manifests are accepted.
  std::filesystem::path manifest_dir;
  /// /readyz answers 200 only while this holds (restored, not shutting down).
  std::function<bool()> ready;
  /// `serve`: the control plane runs on its own thread. Routes that read or change jobs run on
  /// this executor (the jobs' thread), and those that change one republish `board`; GET
  /// /v1/jobs and GET /v1/jobs/{id} answer from `board`, never waiting for the jobs' thread.
  /// Unset: every route runs where the server runs (tests, one thread).
  std::optional<net::any_io_executor> jobs_executor = {};
  jobs::StatusBoard* board = nullptr;
};

/// POST/GET /v1/jobs, GET /v1/jobs/{id}, POST /v1/jobs/{id}/pause|resume|stop,
/// PATCH /v1/jobs/{id}, GET /v1/jobs/{id}/report, GET /healthz, /readyz, /metrics.
void add_job_routes(Router& router,
                    jobs::JobManager& manager,
                    metrics::Metrics& metrics,
                    JobsApiOptions options);

}  // namespace backfilld::api
