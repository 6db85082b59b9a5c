#include "daemon/cosmos/retry_scope.hpp"

#include <fmt/format.h>

#include "daemon/common/time_format.hpp"

namespace backfilld::cosmos {

net::awaitable<bool> RetryScope::wait(std::chrono::milliseconds delay,
                                      RetryCause cause,
                                      int status,
                                      std::string_view operation) {
  if (given_up()) co_return false;
  if (!waiting_) waiting_.emplace(Waiting{cause, status, {}, clock_.system_now(), 0});
  waiting_->cause = cause;
  waiting_->status = status;
  waiting_->operation = std::string(operation);
  ++waiting_->retries;
  std::unique_ptr<common::Timer> timer = clock_.make_timer(co_await net::this_coro::executor);
  timers_.insert(timer.get());
  const auto deadline = clock_.monotonic_now() + delay;
  co_await timer->wait_until(deadline);
  timers_.erase(timer.get());
  co_return !given_up();
}

void RetryScope::wake() {
  for (common::Timer* timer : timers_) timer->cancel();
}

void RetryScope::succeeded() {
  if (timers_.empty()) waiting_.reset();
}

std::string RetryScope::describe() const {
  if (!waiting_) return {};
  const std::string what =
      waiting_->status == 0
          ? fmt::format("{} on {}", to_string(waiting_->cause), waiting_->operation)
          : fmt::format("{} {} on {}", waiting_->status, to_string(waiting_->cause),
                        waiting_->operation);
  return fmt::format(
      "{} ({}) since {}, {} retries: waiting and retrying, no document counted as an error",
      waiting_->cause == RetryCause::kThrottled ? "throttled by Cosmos" : "Cosmos unavailable",
      what, common::iso8601(waiting_->since), waiting_->retries);
}

}  // namespace backfilld::cosmos
