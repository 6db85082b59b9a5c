#include "daemon/jobs/job_persistence.hpp"

#include <spdlog/spdlog.h>

#include "daemon/jobs/job_codec.hpp"

namespace backfilld::jobs {

JobPersistence::JobPersistence(state::StateStore& store) : store_(store), checkpoints_(store) {}

void JobPersistence::persist(const Job& job) {
  checkpoints_.flush();  // a queued checkpoint must not land after this newer state
  if (auto saved = store_.save(job.id, to_state_json(job)); !saved) {
    spdlog::error("job {}: checkpoint not saved: {}", job.id, saved.error().message);
  }
}

void JobPersistence::checkpoint_later(const Job& job) {
  checkpoints_.save_later(job.id, to_state_json(job));
}

common::Result<std::vector<state::Record>> JobPersistence::load_all() { return store_.load_all(); }

}  // namespace backfilld::jobs
