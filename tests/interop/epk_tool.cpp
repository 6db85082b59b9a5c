// Test-only bridge for tests/interop/epk_interop.mjs: backfilld's effective partition key behind
// lines. Each stdin line is `<partitionKey definition JSON>\t<partition key header JSON array>`;
// each answer line is the EPK, or `error: <code>: <message>`.
#include <iostream>
#include <string>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/effective_partition_key.hpp"

namespace backfilld::interop {
namespace {

std::string answer(const std::string& line) {
  const auto tab = line.find('\t');
  if (tab == std::string::npos) return "error: bad_line: no tab";
  auto document = common::parse_json(std::string_view(line).substr(0, tab));
  if (!document) return "error: bad_line: the definition is not JSON";
  auto definition = cosmos::PartitionKeyDefinition::from_json(document.value());
  if (!definition) return "error: " + definition.error().code + ": " + definition.error().message;
  auto epk = cosmos::effective_partition_key(definition.value(),
                                             cosmos::PartitionKey{line.substr(tab + 1)});
  if (!epk) return "error: " + epk.error().code + ": " + epk.error().message;
  return epk.value();
}

}  // namespace
}  // namespace backfilld::interop

int main() {
  std::string line;
  while (std::getline(std::cin, line)) std::cout << backfilld::interop::answer(line) << '\n';
  return 0;
}
