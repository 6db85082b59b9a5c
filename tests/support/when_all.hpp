#pragma once
/// Runs coroutines concurrently on the current executor and waits for all of them.
#include <cstddef>
#include <exception>
#include <optional>
#include <vector>

#include "daemon/common/asio.hpp"

namespace backfilld::testing {

/// The results of `tasks` in their order, once all finished; rethrows the first exception.
template <class T>
net::awaitable<std::vector<T>> when_all(std::vector<net::awaitable<T>> tasks) {
  auto executor = co_await net::this_coro::executor;
  std::vector<std::optional<T>> slots(tasks.size());
  std::size_t remaining = tasks.size();
  std::exception_ptr failure;
  net::steady_timer all_done(executor, net::steady_timer::time_point::max());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    // co_spawn wants a default-constructible result; Result<T> is not, so fill a slot instead.
    auto fill = [](net::awaitable<T> task, std::optional<T>& slot) -> net::awaitable<void> {
      slot.emplace(co_await std::move(task));
    };
    net::co_spawn(executor, fill(std::move(tasks[i]), slots[i]), [&](std::exception_ptr error) {
      if (error && !failure) failure = error;
      if (--remaining == 0) all_done.cancel();
    });
  }
  while (remaining > 0) {
    boost::system::error_code cancelled;
    co_await all_done.async_wait(net::redirect_error(net::use_awaitable, cancelled));
  }
  if (failure) std::rethrow_exception(failure);
  std::vector<T> results;
  results.reserve(slots.size());
  for (auto& slot : slots) results.push_back(std::move(*slot));
  co_return results;
}

}  // namespace backfilld::testing
