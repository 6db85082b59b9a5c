#pragma once
/// The queue of jobs and the scheduler: submission order, a global limit of running jobs and a
/// limit per container (two jobs never write one container at once). It starts nothing itself:
/// `schedule` takes the slots of each job that may start and hands it to the caller.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/jobs/job_run.hpp"

namespace backfilld::jobs {

/// The limits of the scheduler.
struct SchedulerLimits {
  std::size_t max_running_jobs = 2;
  std::size_t max_jobs_per_container = 1;
};

/// Every job of the manager and the slots of the running ones. Single-threaded.
class Scheduler {
 public:
  using Start = std::function<void(ManagedJob&)>;

  Scheduler(net::any_io_executor executor, SchedulerLimits limits);

  /// Adds a job (submitted or restored); the job's id must be new.
  ManagedJob& add(Job job);
  ManagedJob* find(std::string_view id);
  const ManagedJob* find(std::string_view id) const;
  /// Every job in submission order.
  std::vector<ManagedJob*> in_order();
  std::vector<const Job*> list() const;

  /// Starts (through `start`) each queued job that may run now, in submission order: not
  /// paused, admitted by `admit` (empty: every job), within both limits. Takes its slots.
  void schedule(const std::function<bool(const Job&)>& admit, const Start& start);
  /// Gives a run's slots back.
  void release(const Job& job);
  std::size_t running() const { return running_; }
  /// Why a queued job waits: "queued: 2 jobs running (limit 2)", another job on its container.
  std::string queued_reason(const Job& job) const;

 private:
  static std::string slot_key(const Job& job) { return job.database + "/" + job.container; }

  net::any_io_executor executor_;
  SchedulerLimits limits_;
  std::map<std::string, ManagedJob, std::less<>> jobs_;
  std::map<std::string, std::size_t> running_per_container_;
  std::size_t running_ = 0;
};

}  // namespace backfilld::jobs
