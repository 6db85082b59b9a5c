#include "daemon/jobs/status_board.hpp"

#include "daemon/common/json.hpp"
#include "daemon/jobs/job_codec.hpp"
#include "daemon/jobs/job_manager.hpp"

namespace backfilld::jobs {

const std::string* StatusBoard::Snapshot::find(std::string_view id) const {
  for (const auto& [job_id, status] : jobs) {
    if (job_id == id) return &status;
  }
  return nullptr;
}

std::string StatusBoard::Snapshot::list_json() const {
  std::size_t size = 16;
  for (const auto& entry : jobs) size += entry.second.size() + 1;
  std::string json;
  json.reserve(size);
  json += R"({"jobs":[)";
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (i > 0) json += ',';
    json += jobs[i].second;
  }
  json += "]}";
  return json;
}

std::shared_ptr<const StatusBoard::Snapshot> StatusBoard::read() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void StatusBoard::publish(std::shared_ptr<const Snapshot> next) {
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
}

void publish_statuses(const JobManager& manager, StatusBoard& board) {
  auto snapshot = std::make_shared<StatusBoard::Snapshot>();
  snapshot->shutting_down = manager.shutting_down();
  for (const Job* job : manager.list()) {
    rapidjson::Document status;
    to_status_json(*job, manager.live(*job), status, status.GetAllocator());
    snapshot->jobs.emplace_back(job->id, common::to_json(status));
  }
  for (const SetAsideJob& job : manager.set_aside_jobs()) {
    rapidjson::Document status;
    to_status_json(job, status, status.GetAllocator());
    snapshot->jobs.emplace_back(job.id, common::to_json(status));
  }
  board.publish(std::move(snapshot));
}

}  // namespace backfilld::jobs
