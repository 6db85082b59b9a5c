#pragma once
/// Saves checkpoints on a thread of their own, so the io thread never waits on fsync between
/// batches. Saves land in the order they were queued; a newer record of a job replaces one still
/// waiting. A crash can lose a queued checkpoint: the job then resumes from the one before,
/// which at-least-once processing already allows.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "daemon/state/state_store.hpp"

namespace backfilld::state {

class WriteBehind {
 public:
  explicit WriteBehind(StateStore& store);
  /// Saves what is queued, then stops the thread.
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  /// Queues a save; errors are logged by the writer thread.
  void save_later(std::string job_id, std::string json);
  /// Waits until every queued save is done: call before a save of one's own.
  void flush();

 private:
  void run();

  StateStore& store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Record> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace backfilld::state
