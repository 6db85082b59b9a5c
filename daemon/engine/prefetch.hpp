#pragma once
/// ContainerRunner internals: the page of a range fetched ahead (container_runner.cpp and
/// range_scans.cpp both use it).
#include <exception>
#include <optional>
#include <utility>

#include "daemon/engine/container_runner.hpp"

namespace backfilld::engine {

/// The next page of one range, fetched in the background while the current one is written.
class ContainerRunner::Prefetch {
 public:
  explicit Prefetch(ContainerRunner& runner) : runner_(runner) {}

  /// Fetches the page at `position` through `store` (the range's view; it outlives the fetch).
  void start(net::any_io_executor executor, RangePosition position, cosmos::DocumentStore& store) {
    running_ = true;
    page_.reset();
    done_.emplace(executor, net::steady_timer::time_point::max());
    net::co_spawn(
        executor,
        [this, &store, position = std::move(position)]() mutable -> net::awaitable<void> {
          page_.emplace(co_await runner_.fetch_page(std::move(position), store));
        },
        [this](std::exception_ptr error) {
          failure_ = error;
          running_ = false;
          done_->cancel();
        });
  }

  bool started() const { return done_.has_value(); }

  /// Waits for the fetch to end (a scan never leaves while one is in flight).
  net::awaitable<void> drain() {
    if (!running_) co_return;
    boost::system::error_code done;
    co_await done_->async_wait(net::redirect_error(net::use_awaitable, done));
  }

  /// The fetched page; the next start() begins another.
  net::awaitable<cosmos::Result<cosmos::QueryPage>> take() {
    co_await drain();
    done_.reset();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    co_return std::move(*page_);
  }

 private:
  ContainerRunner& runner_;
  bool running_ = false;
  std::optional<net::steady_timer> done_;
  std::optional<cosmos::Result<cosmos::QueryPage>> page_;
  std::exception_ptr failure_;
};

}  // namespace backfilld::engine
