#include "daemon/state/write_behind.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace backfilld::state {

WriteBehind::WriteBehind(StateStore& store) : store_(store), thread_([this] { run(); }) {}

WriteBehind::~WriteBehind() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WriteBehind::save_later(std::string job_id, std::string json) {
  {
    std::lock_guard lock(mutex_);
    const auto waiting = std::find_if(queue_.begin(), queue_.end(), [&](const Record& record) {
      return record.job_id == job_id;
    });
    if (waiting != queue_.end()) {
      waiting->json = std::move(json);  // not started yet: the newer state wins
    } else {
      queue_.push_back(Record{std::move(job_id), std::move(json), {}});
    }
  }
  wake_.notify_one();
}

void WriteBehind::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void WriteBehind::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is saved
    Record record = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (auto saved = store_.save(record.job_id, record.json); !saved) {
      spdlog::error("job {}: checkpoint not saved: {}", record.job_id, saved.error().message);
    }
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace backfilld::state
