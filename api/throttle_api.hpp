#pragma once
/// The throttle endpoints: GET /v1/throttle (the signals in force), POST /v1/throttle (an
/// operator's signal: a reason, `pause` or `slow`, an optional expiry), DELETE /v1/throttle
/// (lift it). Registered by add_job_routes, on the jobs' thread like every job route.
#include <functional>
#include <string_view>

#include "api/router.hpp"
#include "daemon/jobs/job_manager.hpp"

namespace backfilld::api {

using AddRoute = std::function<void(http::verb, std::string_view, Handler)>;

void add_throttle_routes(const AddRoute& add, jobs::JobManager& manager);

}  // namespace backfilld::api
