#include "daemon/cosmos/error.hpp"

#include <cstdio>

namespace backfilld::cosmos {

std::string describe(const Error& error) {
  std::string text = error.is_transport()
                         ? std::string("transport")
                         : std::to_string(error.status) + "/" + std::to_string(error.substatus);
  text += ": " + error.message;
  if (!error.activity_id.empty()) text += " (activity " + error.activity_id + ")";
  return text;
}

}  // namespace backfilld::cosmos
