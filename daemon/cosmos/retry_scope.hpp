#pragma once
/// The retries of one job (or one `backfilld run`): how long a retryable answer (429, 449, 408,
/// 503, 410, transport) is waited out, and when to give up. A job keeps retrying for as long as
/// it runs; its pause, stop or the daemon's shutdown ends every wait in progress at once (the
/// request then fails with its retryable status and the batch is not checkpointed). The scope
/// also says since when the job has been held back, and why, for its status.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "daemon/common/asio.hpp"
#include "daemon/common/clock.hpp"
#include "daemon/cosmos/retry_policy.hpp"

namespace backfilld::cosmos {

class RetryScope {
 public:
  /// Why and since when requests of this scope are being retried.
  struct Waiting {
    RetryCause cause = RetryCause::kThrottled;
    int status = 0;         ///< the last retryable status (0: transport)
    std::string operation;  ///< "replace", "query", ...
    std::chrono::system_clock::time_point since{};
    std::uint64_t retries = 0;  ///< retries since `since`
  };

  /// `give_up` is asked before and after every wait: true ends retrying (pause, stop, shutdown).
  /// Waits and `since` go by `clock`.
  explicit RetryScope(std::function<bool()> give_up = {},
                      const common::Clock& clock = common::real_clock())
      : give_up_(std::move(give_up)), clock_(clock) {}
  RetryScope(const RetryScope&) = delete;
  RetryScope& operator=(const RetryScope&) = delete;

  bool given_up() const { return give_up_ && give_up_(); }

  /// Waits `delay` before retrying `operation` after a retryable answer; false (at once, or as
  /// soon as wake() is called) when the scope gives up.
  net::awaitable<bool> wait(std::chrono::milliseconds delay,
                            RetryCause cause,
                            int status,
                            std::string_view operation);

  /// Ends every wait in progress now: each asks give_up again (and returns false if so).
  void wake();

  /// A request of this scope succeeded: no longer held back, once no wait is in progress.
  void succeeded();

  const std::optional<Waiting>& waiting() const { return waiting_; }
  /// One line for a job's status: "throttled by Cosmos (429 on replace) since ..., 12 retries".
  std::string describe() const;
  /// Waits in progress now.
  std::size_t waits_in_progress() const { return timers_.size(); }

 private:
  std::function<bool()> give_up_;
  const common::Clock& clock_;
  std::set<common::Timer*> timers_;
  std::optional<Waiting> waiting_;
};

}  // namespace backfilld::cosmos
