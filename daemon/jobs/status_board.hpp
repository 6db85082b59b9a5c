#pragma once
/// What GET /v1/jobs and GET /v1/jobs/{id} serve: every job's status as the job side last
/// published it. The job thread publishes (on a short timer and after every API change); the
/// control plane reads from its own thread and never waits for page parsing or batch handling.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace backfilld::jobs {

class JobManager;

class StatusBoard {
 public:
  /// Every job's status JSON, in list order, and whether the daemon is shutting down.
  struct Snapshot {
    std::vector<std::pair<std::string, std::string>> jobs;  ///< id, status JSON
    bool shutting_down = false;
    /// The status JSON of job `id`, or nullptr.
    const std::string* find(std::string_view id) const;
    /// {"jobs": [...]}, as GET /v1/jobs answers.
    std::string list_json() const;
  };

  /// The last published snapshot (an empty one before the first); any thread.
  std::shared_ptr<const Snapshot> read() const;
  /// Replaces the snapshot; the job thread.
  void publish(std::shared_ptr<const Snapshot> next);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_ = std::make_shared<Snapshot>();
};

/// Builds the snapshot of every job of `manager` (its live figures as of now) and publishes it.
/// Call it on the job thread.
void publish_statuses(const JobManager& manager, StatusBoard& board);

}  // namespace backfilld::jobs
