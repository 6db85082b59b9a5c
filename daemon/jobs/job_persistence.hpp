#pragma once
/// A job's state in the state store: saved at once on every change of state, after each batch
/// as a checkpoint saved off the io thread, and loaded back on start.
#include <vector>

#include "daemon/common/result.hpp"
#include "daemon/jobs/job.hpp"
#include "daemon/state/state_store.hpp"
#include "daemon/state/write_behind.hpp"

namespace backfilld::jobs {

/// Saves and loads jobs. Single-threaded: call it from the io_context's thread.
class JobPersistence {
 public:
  explicit JobPersistence(state::StateStore& store);

  /// Saves the job now; a checkpoint still queued is written first, so it cannot land after
  /// this newer state. A failure is logged (the job goes on; the next save may succeed).
  void persist(const Job& job);
  /// After a batch: the checkpoint is saved off the io thread (the newest one per job wins).
  void checkpoint_later(const Job& job);
  /// Every stored record.
  common::Result<std::vector<state::Record>> load_all();
  /// Moves an unloadable record aside (StateStore::set_aside); where it went.
  common::Result<std::string> set_aside(const std::string& job_id) {
    return store_.set_aside(job_id);
  }

 private:
  state::StateStore& store_;
  state::WriteBehind checkpoints_;  ///< batch checkpoints, saved off the io thread
};

}  // namespace backfilld::jobs
