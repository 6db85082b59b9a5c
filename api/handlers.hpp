#pragma once
/// What the control plane's handlers share: running on the jobs' thread, reading a JSON body's
/// optional members with errors that name them, who asked, and the audit line.
#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "api/jobs_api.hpp"
#include "api/router.hpp"
#include "daemon/common/result.hpp"

namespace backfilld::api {

using SyncHandler = std::function<Response(const Request&, const PathParams&)>;

/// A handler that answers at once (the manager runs jobs on its own).
Handler sync(SyncHandler handler);
/// `handler` run on the jobs' thread when the control plane has its own (see JobsApiOptions);
/// a request that changes jobs republishes the status board before it is answered, so the next
/// GET sees the change.
Handler on_jobs_thread(const JobsApiOptions& options, jobs::JobManager& manager, Handler handler);
/// An error answer with `code` and `message`.
Response fail(std::string code, std::string message);
/// Refuses members other than `allowed`, naming the first unknown one.
common::Result<void> only_known(const rapidjson::Value& body, std::set<std::string_view> allowed);
/// A string member, "" when absent or null.
common::Result<std::string> optional_string(const rapidjson::Value& body, std::string_view name);
/// A body that may be empty (then an empty object); otherwise a JSON object.
common::Result<rapidjson::Document> optional_body(const Request& request);
/// Who asked: the body's "operator", else the X-Operator header, else "unknown".
std::string operator_of(const Request& request, const rapidjson::Value& body);
/// The audit line of a change.
void audit(const Request& request,
           std::string_view who,
           std::string_view action,
           std::string_view outcome);
common::Result<std::optional<double>> optional_number(const rapidjson::Value& body,
                                                      std::string_view name);
common::Result<std::optional<std::uint32_t>> optional_count(const rapidjson::Value& body,
                                                            std::string_view name);

}  // namespace backfilld::api
