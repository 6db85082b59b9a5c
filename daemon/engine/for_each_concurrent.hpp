#pragma once
/// Bounded fan-out for coroutines: fn(0..count-1) with at most `width` in flight.
#include <algorithm>
#include <cstddef>
#include <exception>

#include "daemon/common/asio.hpp"

namespace backfilld::engine {

/// Awaits fn(i) for every i in [0, count), at most `width` at a time, and returns when all have
/// finished. The first exception stops new work and is rethrown once the running ones end.
template <class Fn>
net::awaitable<void> for_each_concurrent(std::size_t count, std::size_t width, Fn fn) {
  if (count == 0) co_return;
  auto executor = co_await net::this_coro::executor;
  std::size_t next = 0;
  std::size_t running = 0;
  std::exception_ptr failure;
  net::steady_timer all_done(executor, net::steady_timer::time_point::max());
  const std::size_t workers = std::clamp<std::size_t>(width, 1, count);
  for (std::size_t worker = 0; worker < workers; ++worker) {
    ++running;
    net::co_spawn(
        executor,
        [&]() -> net::awaitable<void> {
          while (next < count && !failure) co_await fn(next++);
        },
        [&](std::exception_ptr error) {
          if (error && !failure) failure = error;
          if (--running == 0) all_done.cancel();
        });
  }
  if (running > 0) {
    boost::system::error_code cancelled;
    co_await all_done.async_wait(net::redirect_error(net::use_awaitable, cancelled));
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace backfilld::engine
