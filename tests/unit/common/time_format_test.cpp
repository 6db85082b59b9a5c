#include "daemon/common/time_format.hpp"

#include <doctest/doctest.h>

namespace backfilld::common {

TEST_CASE("iso8601 writes UTC with milliseconds and parses back") {
  const auto when = std::chrono::system_clock::time_point(std::chrono::milliseconds(1493254272123));
  CHECK(iso8601(when) == "2017-04-27T00:51:12.123Z");
  CHECK(parse_iso8601("2017-04-27T00:51:12.123Z") == when);
  CHECK_FALSE(parse_iso8601("2017-04-27 00:51:12").has_value());
  CHECK_FALSE(parse_iso8601("").has_value());
}

}  // namespace backfilld::common
