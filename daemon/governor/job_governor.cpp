#include "daemon/governor/job_governor.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace backfilld::governor {
namespace {

using std::chrono::steady_clock;

/// The smaller of two limits where 0 means none.
double tighter(double a, double b) {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return std::min(a, b);
}

}  // namespace

/// One range's admissions: its own adaptive limit under the job's and the daemon's budgets.
class JobGovernor::Range final : public cosmos::RequestGovernor {
 public:
  Range(JobGovernor& job, std::string id) : job_(job), id_(std::move(id)) {}

  net::awaitable<std::optional<double>> admit(std::string_view operation) override {
    const common::Clock& clock = job_.daemon_.clock();
    std::unique_ptr<common::Timer> timer;
    for (;;) {
      if (job_.interrupted_ && job_.interrupted_()) co_return std::nullopt;
      const auto now = clock.monotonic_now();
      job_.budget_.set_rate(job_.budget(), now);
      control_.set_ceiling(job_.ceiling());
      budget_.set_rate(control_.limit(), now);
      const auto daemon_wait = job_.daemon_.budget().wait(now);
      const auto job_wait = job_.budget_.wait(now);
      // The range's own limit paces the requests beyond the first: one request at a time always
      // goes (the bulk executors' floor of one), or 429s unrelated to the load (a busy day, a
      // fault) would starve it. The service's retry-after still quiets even that one.
      const auto range_wait = in_flight_ > 0 ? budget_.wait(now) : steady_clock::duration::zero();
      const auto quiet_wait = control_.quiet_until() - now;
      const auto wait = std::max({daemon_wait, job_wait, range_wait, quiet_wait});
      if (wait <= steady_clock::duration::zero()) break;
      job_.waiting_ = reason(wait, daemon_wait, job_wait, range_wait);
      if (!timer) timer = clock.make_timer(co_await net::this_coro::executor);
      job_.timers_.insert(timer.get());
      ++waiting_;
      co_await timer->wait_until(now + wait);
      --waiting_;
      job_.timers_.erase(timer.get());
    }
    if (job_.timers_.empty()) job_.waiting_.clear();
    const auto found = job_.estimates_.find(operation);
    const double reserved = found == job_.estimates_.end() ? 0.0 : found->second;
    spend(reserved, clock.monotonic_now());
    ++in_flight_;
    co_return reserved;
  }

  void settle(double reserved, const Answer& answer) override {
    const auto now = job_.daemon_.clock().monotonic_now();
    if (in_flight_ > 0) --in_flight_;
    spend(answer.request_charge - reserved, now);
    // The range's last request is answered: one waiting request may go now (see admit).
    if (in_flight_ == 0 && waiting_ > 0) job_.wake();
    if (answer.status == 429) {
      control_.throttled(now, budget_.usage().per_second(now, std::chrono::seconds(2)),
                         answer.retry_after);
      return;
    }
    if (answer.status >= 200 && answer.status < 300) {
      control_.succeeded(now);
      auto [estimate, fresh] =
          job_.estimates_.try_emplace(std::string(answer.operation), answer.request_charge);
      if (!fresh) estimate->second = 0.8 * estimate->second + 0.2 * answer.request_charge;
    }
  }

  void inherit(const Range& parent) { control_ = parent.control_; }

  RangeBudget state(steady_clock::time_point now) const {
    return {id_, control_.limit(), budget_.usage().per_second(now, std::chrono::seconds(10)),
            control_.throttles(), control_.backing_off()};
  }

 private:
  void spend(double units, steady_clock::time_point now) {
    job_.daemon_.budget().spend(units, now);
    job_.budget_.spend(units, now);
    budget_.spend(units, now);
  }

  std::string reason(steady_clock::duration wait,
                     steady_clock::duration daemon_wait,
                     steady_clock::duration job_wait,
                     steady_clock::duration range_wait) const {
    if (wait == daemon_wait) {
      return fmt::format("request-unit budget: {:g} RU/s (the daemon's, all jobs)",
                         job_.daemon_.budget().rate());
    }
    if (wait == job_wait) {
      const ThrottleSignal* signal = job_.daemon_.throttle();
      return fmt::format("request-unit budget: {:g} RU/s (the job's{})", job_.budget_.rate(),
                         signal != nullptr && signal->level == ThrottleLevel::kSlow
                             ? ", crawling: " + ThrottleBoard::describe(*signal)
                             : "");
    }
    if (wait == range_wait && !control_.backing_off()) {
      return fmt::format("request-unit budget: {:.4g} RU/s on range {} (its share)",
                         control_.limit(), id_);
    }
    return fmt::format("backing off range {} after {} 429s: {:.4g} RU/s", id_, control_.throttles(),
                       control_.limit());
  }

  JobGovernor& job_;
  std::string id_;
  RangeControl control_;
  Budget budget_;
  std::size_t in_flight_ = 0;  ///< admitted and not yet settled
  std::size_t waiting_ = 0;    ///< admissions waiting now
};

JobGovernor::JobGovernor(Governor& daemon,
                         std::function<BudgetKnobs()> knobs,
                         std::function<bool()> interrupted)
    : daemon_(daemon), knobs_(std::move(knobs)), interrupted_(std::move(interrupted)) {}

JobGovernor::~JobGovernor() = default;

cosmos::RequestGovernor& JobGovernor::range(const std::string& range_id) {
  auto [entry, fresh] = ranges_.try_emplace(range_id);
  if (fresh) entry->second = std::make_unique<Range>(*this, range_id);
  return *entry->second;
}

void JobGovernor::split(const std::string& parent, const std::vector<std::string>& children) {
  const auto found = ranges_.find(parent);
  for (const std::string& child : children) {
    auto& governed = static_cast<Range&>(range(child));
    if (found != ranges_.end()) governed.inherit(*found->second);
  }
}

void JobGovernor::set_layout(std::optional<cosmos::Throughput> provisioned, std::size_t ranges) {
  provisioned_ = provisioned;
  range_count_ = std::max<std::size_t>(1, ranges);
}

bool JobGovernor::offer_due() const {
  return !offer_read_at_ ||
         daemon_.clock().monotonic_now() - *offer_read_at_ >= daemon_.settings().offer_refresh;
}

void JobGovernor::offer_read() { offer_read_at_ = daemon_.clock().monotonic_now(); }

double JobGovernor::budget() const {
  const BudgetKnobs knobs = knobs_ ? knobs_() : BudgetKnobs{};
  const double provisioned = provisioned_ ? provisioned_->request_units_per_second : 0;
  double budget = knobs.max_request_units_per_second;
  if (knobs.max_throughput_fraction > 0 && provisioned > 0) {
    budget = tighter(budget, knobs.max_throughput_fraction * provisioned);
  }
  const ThrottleSignal* signal = daemon_.throttle();
  if (signal != nullptr && signal->level == ThrottleLevel::kSlow) {
    const GovernorSettings& settings = daemon_.settings();
    const double base = budget > 0 ? budget : provisioned;
    budget = base > 0 ? std::max(1.0, base * settings.crawl_fraction) : settings.crawl_floor;
  }
  return budget;
}

double JobGovernor::ceiling() const {
  if (!provisioned_) return 0;
  const BudgetKnobs knobs = knobs_ ? knobs_() : BudgetKnobs{};
  const double share = knobs.max_throughput_fraction > 0 ? knobs.max_throughput_fraction : 1.0;
  return share * provisioned_->request_units_per_second / static_cast<double>(range_count_);
}

void JobGovernor::wake() {
  for (common::Timer* timer : timers_) timer->cancel();
}

JobBudget JobGovernor::snapshot() const {
  const auto now = daemon_.clock().monotonic_now();
  JobBudget result{budget(),
                   provisioned_,
                   budget_.usage().per_second(now, std::chrono::seconds(10)),
                   budget_.usage().total(),
                   0,
                   {}};
  for (const auto& [id, range] : ranges_) {
    result.ranges.push_back(range->state(now));
    result.throttles += result.ranges.back().throttles;
  }
  return result;
}

}  // namespace backfilld::governor
