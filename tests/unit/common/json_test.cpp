#include "daemon/common/json.hpp"

#include <doctest/doctest.h>

namespace backfilld::common {

TEST_CASE("parse_json then to_json keeps numbers, unicode and order exactly") {
  const std::string text =
      R"({"id":"n1","n":42,"big":9007199254740993,"neg":-7,"f":0.1,"e":1.5e+300,)"
      R"("tiny":1e-7,"u":"h\u00e9llo \u2603 \ud83d\ude00","nested":{"a":[1,2.5,null,true]}})";
  auto parsed = parse_json(text);
  REQUIRE(parsed.ok());
  const std::string written = to_json(*parsed);
  auto reparsed = parse_json(written);
  REQUIRE(reparsed.ok());
  CHECK(*reparsed == *parsed);
  CHECK(written.find(R"("n":42,"big":9007199254740993,"neg":-7,"f":0.1)") != std::string::npos);
  CHECK(written.find("\"tiny\":1e-7") != std::string::npos);
  CHECK(written.find("h\xC3\xA9llo \xE2\x98\x83 \xF0\x9F\x98\x80") != std::string::npos);
}

TEST_CASE("parse_json names the offset of a syntax error") {
  auto parsed = parse_json(R"({"a": 1,})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == "invalid_json");
  CHECK(parsed.error().message.find("offset 8") != std::string::npos);
}

TEST_CASE("string_member finds strings only") {
  auto parsed = parse_json(R"({"s":"x","n":1})");
  REQUIRE(parsed.ok());
  CHECK(string_member(*parsed, "s") == std::optional<std::string_view>("x"));
  CHECK_FALSE(string_member(*parsed, "n").has_value());
  CHECK_FALSE(string_member(*parsed, "absent").has_value());
  CHECK(find_member(*parsed, "n")->GetInt() == 1);
}

}  // namespace backfilld::common
