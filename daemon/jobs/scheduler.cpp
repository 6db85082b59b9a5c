#include "daemon/jobs/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace backfilld::jobs {

Scheduler::Scheduler(net::any_io_executor executor, SchedulerLimits limits)
    : executor_(std::move(executor)), limits_(limits) {}

ManagedJob& Scheduler::add(Job job) {
  const std::string id = job.id;
  jobs_.erase(id);
  return jobs_.try_emplace(id, std::move(job), executor_).first->second;
}

ManagedJob* Scheduler::find(std::string_view id) {
  const auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const ManagedJob* Scheduler::find(std::string_view id) const {
  const auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

std::vector<ManagedJob*> Scheduler::in_order() {
  std::vector<ManagedJob*> jobs;
  jobs.reserve(jobs_.size());
  for (auto& [id, entry] : jobs_) jobs.push_back(&entry);
  std::sort(jobs.begin(), jobs.end(), [](const ManagedJob* a, const ManagedJob* b) {
    return a->job.sequence < b->job.sequence;
  });
  return jobs;
}

std::vector<const Job*> Scheduler::list() const {
  std::vector<const Job*> jobs;
  jobs.reserve(jobs_.size());
  for (const auto& [id, entry] : jobs_) jobs.push_back(&entry.job);
  std::sort(jobs.begin(), jobs.end(),
            [](const Job* a, const Job* b) { return a->sequence < b->sequence; });
  return jobs;
}

void Scheduler::schedule(const std::function<bool(const Job&)>& admit, const Start& start) {
  for (ManagedJob* candidate : in_order()) {
    if (running_ >= limits_.max_running_jobs) return;
    if (candidate->job.state != JobState::kQueued) continue;
    if (candidate->run.active || candidate->job.pause_requested) continue;
    if (admit && !admit(candidate->job)) continue;
    const std::string key = slot_key(candidate->job);
    if (running_per_container_[key] >= limits_.max_jobs_per_container) continue;
    candidate->run.active = true;
    ++running_;
    ++running_per_container_[key];
    start(*candidate);
  }
}

void Scheduler::release(const Job& job) {
  --running_;
  --running_per_container_[slot_key(job)];
}

std::string Scheduler::queued_reason(const Job& job) const {
  const auto busy = running_per_container_.find(slot_key(job));
  if (running_ >= limits_.max_running_jobs) {
    return fmt::format("queued: {} jobs running (limit {})", running_, limits_.max_running_jobs);
  }
  if (busy != running_per_container_.end() && busy->second >= limits_.max_jobs_per_container) {
    return "queued: another job is running on container " + job.container;
  }
  return "queued";
}

}  // namespace backfilld::jobs
