#include "daemon/jobs/governor_json.hpp"

#include "daemon/common/time_format.hpp"

namespace backfilld::jobs {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

rapidjson::Value text(std::string_view value, Allocator& allocator) {
  return rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), allocator);
}

}  // namespace

rapidjson::Value throttle_signal_json(const governor::ThrottleSignal& signal,
                                      Allocator& allocator) {
  rapidjson::Value json(rapidjson::kObjectType);
  json.AddMember("source", text(governor::to_string(signal.source), allocator), allocator);
  json.AddMember("level", text(governor::to_string(signal.level), allocator), allocator);
  json.AddMember("reason", text(signal.reason, allocator), allocator);
  json.AddMember("since", text(common::iso8601(signal.since), allocator), allocator);
  json.AddMember(
      "expires",
      signal.expires ? text(common::iso8601(*signal.expires), allocator) : rapidjson::Value(),
      allocator);
  return json;
}

void to_throttle_json(const governor::Governor& governor,
                      rapidjson::Value& out,
                      Allocator& allocator) {
  out.SetObject();
  const governor::ThrottleSignal* in_force = governor.throttle();
  out.AddMember("inForce",
                in_force ? throttle_signal_json(*in_force, allocator) : rapidjson::Value(),
                allocator);
  rapidjson::Value signals(rapidjson::kArrayType);
  for (const auto& [source, signal] : governor.throttles().signals()) {
    signals.PushBack(throttle_signal_json(signal, allocator), allocator);
  }
  out.AddMember("signals", signals, allocator);
  out.AddMember("daemonBudget", governor.budget().rate(), allocator);
}

rapidjson::Value job_budget_json(const governor::JobBudget& budget, Allocator& allocator) {
  rapidjson::Value json(rapidjson::kObjectType);
  json.AddMember("budget", budget.budget, allocator);
  json.AddMember("provisioned",
                 budget.provisioned ? rapidjson::Value(budget.provisioned->request_units_per_second)
                                    : rapidjson::Value(),
                 allocator);
  json.AddMember("autoscale", budget.provisioned && budget.provisioned->autoscale, allocator);
  json.AddMember("spentPerSecond", budget.spent_per_second, allocator);
  json.AddMember("spentTotal", budget.spent_total, allocator);
  json.AddMember("throttles", budget.throttles, allocator);
  rapidjson::Value ranges(rapidjson::kArrayType);
  for (const governor::RangeBudget& range : budget.ranges) {
    rapidjson::Value item(rapidjson::kObjectType);
    item.AddMember("id", text(range.range_id, allocator), allocator);
    item.AddMember("limit", range.limit, allocator);
    item.AddMember("spentPerSecond", range.spent_per_second, allocator);
    item.AddMember("throttles", range.throttles, allocator);
    item.AddMember("backingOff", range.backing_off, allocator);
    ranges.PushBack(item, allocator);
  }
  json.AddMember("ranges", ranges, allocator);
  return json;
}

}  // namespace backfilld::jobs
