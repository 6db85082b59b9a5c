#pragma once
/// Runs one coroutine to completion on an io_context: tests stay linear.
#include <exception>
#include <optional>

#include "daemon/common/asio.hpp"

namespace backfilld::testing {

template <class T>
T run_sync(net::io_context& io, net::awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr failure;
  // co_spawn's handler wants a default-constructible T; Result<T> is not, so store it here.
  net::co_spawn(
      io, [&]() -> net::awaitable<void> { result.emplace(co_await std::move(task)); },
      [&](std::exception_ptr error) { failure = error; });
  io.restart();
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

inline void run_sync(net::io_context& io, net::awaitable<void> task) {
  std::exception_ptr failure;
  net::co_spawn(io, std::move(task), [&](std::exception_ptr error) { failure = error; });
  io.restart();
  io.run();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace backfilld::testing

namespace backfilld::testing {

/// Runs handlers until `done()` holds; false when nothing became ready for `idle` (only timers
/// far away, or no work at all) or after `limit` handlers.
template <class Predicate>
bool run_until(net::io_context& io,
               Predicate done,
               std::size_t limit = 1'000'000,
               std::chrono::milliseconds idle = std::chrono::milliseconds(200)) {
  io.restart();
  for (std::size_t handlers = 0; !done(); ++handlers) {
    if (handlers >= limit || io.run_one_for(idle) == 0) return done();
  }
  return true;
}

}  // namespace backfilld::testing
