#pragma once
/// Which Cosmos failures are retried, and how long to wait: pure, so it is tested without time.
#include <chrono>
#include <optional>
#include <string_view>

namespace backfilld::cosmos {

/// Why an attempt is retried; also the label of the retries metric.
enum class RetryCause {
  kThrottled,       ///< 429: request rate too large
  kRetryWith,       ///< 449: transient write conflict
  kRequestTimeout,  ///< 408
  kUnavailable,     ///< 503
  kGone,            ///< 410 (1002: partition split)
  kTransport,       ///< connection dropped, reset, TLS error, deadline passed
};

std::string_view to_string(RetryCause cause);

struct RetryOptions {
  /// Including the first; 0: no limit. Only for requests without a RetryScope (a job's
  /// requests retry for as long as the job runs).
  int max_attempts = 0;
  std::chrono::milliseconds base_delay{50};    ///< first backoff step
  std::chrono::milliseconds max_delay{5'000};  ///< cap of one wait
  /// Without a RetryScope: give up after waiting this long in all.
  std::chrono::milliseconds max_total_wait{120'000};
};

/// The retry cause of a response (`status` 0: transport failure), or nullopt when it is final.
std::optional<RetryCause> retry_cause(int status);

/// How long to wait before retry number `retry` (1 = first retry). A 429's server-given
/// `retry_after` wins (capped at max_delay); otherwise full-jitter exponential backoff:
/// uniform in [0, min(max_delay, base * 2^(retry-1))], with `unit_random` in [0, 1).
std::chrono::milliseconds backoff_delay(RetryCause cause,
                                        int retry,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        const RetryOptions& options,
                                        double unit_random);

/// The wait before the engine asks again itself (a page's query, a round of writes) after a
/// retryable answer came back to it: the server's `retry_after` when it gave one, else 100 ms
/// doubling with each round in a row (`rounds` 0 is the first); 5 s at most.
std::chrono::milliseconds round_delay(std::chrono::milliseconds retry_after, int rounds);

}  // namespace backfilld::cosmos
