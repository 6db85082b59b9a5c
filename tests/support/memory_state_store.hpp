#pragma once
/// A StateStore in memory, for unit tests of the job manager.
#include <map>
#include <string>

#include "daemon/state/state_store.hpp"

namespace backfilld::testing {

class MemoryStateStore final : public state::StateStore {
 public:
  common::Result<void> save(std::string_view job_id, std::string_view json) override {
    records[std::string(job_id)] = std::string(json);
    ++saves;
    return {};
  }
  common::Result<std::vector<state::Record>> load_all() override {
    std::vector<state::Record> all;
    for (const auto& [id, json] : records) all.push_back({id, json, {}});
    return all;
  }
  common::Result<std::string> set_aside(std::string_view job_id) override {
    const auto record = records.find(std::string(job_id));
    if (record == records.end())
      return common::fail("state_io", "no record " + std::string(job_id));
    set_aside_records[record->first] = record->second;
    records.erase(record);
    return "corrupt/" + std::string(job_id) + ".json";
  }
  std::map<std::string, std::string> records;
  std::map<std::string, std::string> set_aside_records;  ///< what set_aside moved
  int saves = 0;
};

}  // namespace backfilld::testing
