#pragma once
/// The seam between the client and a request-unit governor: every attempt of a governed request
/// (queries, writes, re-reads, retries) is admitted against a budget first, and what it cost
/// (`x-ms-request-charge`) is settled after. daemon/governor implements it; no governor: unlimited.
#include <chrono>
#include <optional>
#include <string_view>

#include "daemon/common/asio.hpp"

namespace backfilld::cosmos {

class RequestGovernor {
 public:
  /// How one admitted attempt ended.
  struct Answer {
    std::string_view operation;  ///< "query", "replace", "bulk", ...
    int status = 0;              ///< 0: transport failure
    double request_charge = 0;
    std::optional<std::chrono::milliseconds> retry_after = {};  ///< a 429's hint
  };

  virtual ~RequestGovernor() = default;
  /// Waits until the budgets admit one more `operation` attempt; the units reserved for it, or
  /// nullopt when the wait was ended (pause, stop, shutdown): the attempt is not sent.
  virtual net::awaitable<std::optional<double>> admit(std::string_view operation) = 0;
  /// What the attempt admitted with `reserved` units cost.
  virtual void settle(double reserved, const Answer& answer) = 0;
};

}  // namespace backfilld::cosmos
