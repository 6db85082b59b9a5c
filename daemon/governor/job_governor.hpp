#pragma once
/// One job's request-unit governance. Every attempt of the job's requests is admitted by three
/// budgets, spent against all three with its real charge: the daemon's (all jobs), the job's
/// (`maxRequestUnitsPerSecond`, or `maxThroughputFraction` of the container's provisioned
/// throughput, or a crawl under a `slow` throttle signal) and its range's (the range's share of
/// the provisioned throughput, as the service divides it, cut by adaptive backoff on 429s).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/common/clock.hpp"
#include "daemon/cosmos/request_governor.hpp"
#include "daemon/cosmos/types.hpp"
#include "daemon/governor/budget.hpp"
#include "daemon/governor/governor.hpp"
#include "daemon/governor/range_control.hpp"

namespace backfilld::governor {

/// The job's knobs the governor reads at every admission (a PATCH applies at once).
struct BudgetKnobs {
  double max_request_units_per_second = 0;  ///< 0: none
  double max_throughput_fraction = 0;       ///< 0: none
};

/// One range's budget as status and metrics show it.
struct RangeBudget {
  std::string range_id;
  double limit = 0;  ///< RU/s (0: none)
  double spent_per_second = 0;
  std::uint64_t throttles = 0;  ///< 429s answered
  bool backing_off = false;
};

/// The job's budget as status and metrics show it.
struct JobBudget {
  double budget = 0;  ///< RU/s the job may spend now (0: no limit)
  std::optional<cosmos::Throughput> provisioned;
  double spent_per_second = 0;  ///< over the last 10 seconds
  double spent_total = 0;
  std::uint64_t throttles = 0;
  std::vector<RangeBudget> ranges;
};

class JobGovernor {
 public:
  JobGovernor(Governor& daemon,
              std::function<BudgetKnobs()> knobs,
              std::function<bool()> interrupted);
  ~JobGovernor();
  JobGovernor(const JobGovernor&) = delete;
  JobGovernor& operator=(const JobGovernor&) = delete;

  /// The governor of the requests of range `range_id` ("": not pinned to a range).
  cosmos::RequestGovernor& range(const std::string& range_id);
  /// A split: `children` start at the parent's backoff state.
  void split(const std::string& parent, const std::vector<std::string>& children);
  /// What the container has: its provisioned throughput (nullopt: unknown) and live ranges.
  void set_layout(std::optional<cosmos::Throughput> provisioned, std::size_t ranges);
  /// The number of live ranges changed (a split), the throughput did not.
  void set_layout_ranges(std::size_t ranges) { set_layout(provisioned_, ranges); }
  /// Whether the provisioned throughput should be read (again) now.
  bool offer_due() const;
  void offer_read();

  /// RU/s the job may spend now (0: no limit).
  double budget() const;
  /// Ends every admission wait: each recomputes (a knob changed) or ends (interrupted).
  void wake();
  /// Why an admission waits now ("request-unit budget: 400 RU/s (job)"), or "".
  const std::string& waiting_reason() const { return waiting_; }
  JobBudget snapshot() const;

 private:
  class Range;
  double ceiling() const;

  Governor& daemon_;
  std::function<BudgetKnobs()> knobs_;
  std::function<bool()> interrupted_;
  Budget budget_;
  std::map<std::string, std::unique_ptr<Range>> ranges_;
  std::map<std::string, double, std::less<>> estimates_;  ///< RU per operation, learnt
  std::set<common::Timer*> timers_;
  std::optional<cosmos::Throughput> provisioned_;
  std::size_t range_count_ = 1;
  std::optional<std::chrono::steady_clock::time_point> offer_read_at_;
  std::string waiting_;
};

}  // namespace backfilld::governor
