#include "daemon/state/write_behind.hpp"

#include <doctest/doctest.h>

#include <future>
#include <map>
#include <mutex>
#include <vector>

namespace backfilld::state {
namespace {

/// Records every save in order; the first save waits until the test lets it go.
class GatedStore final : public StateStore {
 public:
  common::Result<void> save(std::string_view job_id, std::string_view json) override {
    if (first_) {
      first_ = false;
      started.set_value();
      gate.get_future().wait();
    }
    std::lock_guard lock(mutex_);
    saved.emplace_back(std::string(job_id), std::string(json));
    return {};
  }
  common::Result<std::vector<Record>> load_all() override { return std::vector<Record>{}; }
  common::Result<std::string> set_aside(std::string_view) override { return std::string(); }

  std::vector<std::pair<std::string, std::string>> saved;
  std::promise<void> started;
  std::promise<void> gate;

 private:
  bool first_ = true;
  std::mutex mutex_;
};

}  // namespace

TEST_CASE("checkpoints are saved off the caller's thread, in order, the newest per job") {
  GatedStore store;
  {
    WriteBehind writer(store);
    writer.save_later("a", "a1");
    store.started.get_future().wait();  // "a1" is being saved: the writer is busy
    writer.save_later("b", "b1");
    writer.save_later("a", "a2");
    writer.save_later("a", "a3");  // replaces "a2", which has not started
    CHECK(store.saved.empty());    // the caller did not wait for the slow save
    store.gate.set_value();
    writer.flush();
    const std::vector<std::pair<std::string, std::string>> expected{
        {"a", "a1"}, {"b", "b1"}, {"a", "a3"}};
    CHECK(store.saved == expected);
    writer.save_later("c", "c1");
  }
  // Destruction saves what was still queued.
  CHECK(store.saved.back() == std::pair<std::string, std::string>{"c", "c1"});
}

}  // namespace backfilld::state
