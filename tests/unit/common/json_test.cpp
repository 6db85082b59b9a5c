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

TEST_CASE("lone surrogate escapes survive a parse and a write unchanged") {
  // JSON.stringify output of {"a": "x\udc00y", "b": "cut \ud83d", "c": "😀", "d": "\\ud83d",
  // "e": "\udc00\ud800", "k\udfff": 1}: lone halves, a pair, an escaped backslash before "ud83d".
  const std::string original =
      R"({"a":"x\udc00y","b":"cut \ud83d","c":"\ud83d\ude00","d":"\\ud83d",)"
      R"("e":"\udc00\ud800","k\udfff":1,"f":"\uD83D"})";
  std::string text = original;
  CHECK(lone_surrogate_escapes_to_cesu8(text));
  auto parsed = parse_json(text);
  REQUIRE(parsed.ok());
  CHECK(*string_member(*parsed, "a") == "x\xED\xB0\x80y");
  CHECK(*string_member(*parsed, "b") == "cut \xED\xA0\xBD");
  CHECK(*string_member(*parsed, "c") == "\xF0\x9F\x98\x80");
  CHECK(*string_member(*parsed, "d") == "\\ud83d");
  CHECK(*string_member(*parsed, "e") == "\xED\xB0\x80\xED\xA0\x80");
  CHECK(*string_member(*parsed, "f") == "\xED\xA0\xBD");
  // Written back as JSON.stringify writes the same JavaScript strings (lowercase escapes, the
  // pair as its character).
  CHECK(to_json(*parsed) ==
        "{\"a\":\"x\\udc00y\",\"b\":\"cut \\ud83d\",\"c\":\"\xF0\x9F\x98\x80\","
        "\"d\":\"\\\\ud83d\",\"e\":\"\\udc00\\ud800\",\"k\\udfff\":1,\"f\":\"\\ud83d\"}");
}

TEST_CASE("lone_surrogate_escapes_to_cesu8 leaves text without lone surrogates alone") {
  for (std::string text : {std::string(R"({"a":"\ud83d\ude00 \u00e9 \\udc00 \"\\\""})"),
                           std::string(R"([1,"\u0041",{"b":null}])"), std::string("\\"),
                           std::string(R"("\ud83")"), std::string()}) {
    const std::string before = text;
    CHECK_FALSE(lone_surrogate_escapes_to_cesu8(text));
    CHECK(text == before);
  }
}

TEST_CASE("to_json writes strings as JSON.stringify does") {
  auto parsed = parse_json(R"({"ctl":"\u0001\u001f\t","sep":"\u2028","q":"\"\\/"})");
  REQUIRE(parsed.ok());
  CHECK(to_json(*parsed) ==
        "{\"ctl\":\"\\u0001\\u001f\\t\",\"sep\":\"\xE2\x80\xA8\",\"q\":\"\\\"\\\\/\"}");
}

}  // namespace backfilld::common
