#include "daemon/common/json.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

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

TEST_CASE("parse_json converts every number exactly, where RapidJSON 1.1's own strtod did not") {
  // RapidJSON read [0e40] as -2.4e229 and overflowed 20-digit significands (undefined behaviour;
  // found by tests/fuzz/manifest_fuzz). Each value here is what JavaScript's JSON.parse reads.
  const std::string zeros = "0." + std::string(30, '0');
  auto parsed = parse_json(R"([0e40,-0.00E+300,0e-999999999,)" + zeros +
                           R"(,184467440737095516157,18446744073709551616,18446744073709551615,)"
                           R"(-9223372036854775808,-9223372036854775809,0.1,1e-400,5e-324,-0,7])");
  REQUIRE(parsed.ok());
  const rapidjson::Value& a = *parsed;
  for (rapidjson::SizeType i = 0; i < 4; ++i) CHECK(a[i].GetDouble() == 0.0);
  CHECK(std::signbit(a[1].GetDouble()));
  CHECK(a[4].GetDouble() == 184467440737095516157.0);
  CHECK(a[5].GetDouble() == 18446744073709551616.0);
  CHECK(a[6].IsUint64());
  CHECK(a[6].GetUint64() == 18446744073709551615u);
  CHECK(a[7].IsInt64());
  CHECK(a[7].GetInt64() == std::numeric_limits<std::int64_t>::min());
  CHECK(a[8].IsDouble());
  CHECK(a[9].GetDouble() == 0.1);
  CHECK(a[10].GetDouble() == 0.0);
  CHECK(a[11].GetDouble() == 5e-324);
  CHECK(a[12].IsInt());
  CHECK(a[13].IsInt());
  CHECK(to_json(a[9]) == "0.1");

  auto too_big = parse_json("[1e400]");
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().message.find("offset 1: Number too big") != std::string::npos);
  CHECK_FALSE(parse_json("[0e0e40]").ok());
  CHECK_FALSE(parse_json("[00e40]").ok());
  CHECK_FALSE(parse_json("[0.e5]").ok());
}

TEST_CASE("parse_json names the offset of a syntax error") {
  auto parsed = parse_json(R"({"a": 1,})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == "invalid_json");
  CHECK(parsed.error().message.find("offset 8") != std::string::npos);
}

TEST_CASE("parse_json reads lone surrogate escapes, which JSON.stringify writes") {
  // RapidJSON alone refuses a high surrogate escape without its low half.
  rapidjson::Document strict;
  strict.Parse(R"(["\ud800"])");
  REQUIRE(strict.GetParseError() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid);

  struct Case {
    std::string_view text;
    std::string_view stored;   ///< the bytes of the first string
    std::string_view written;  ///< JSON.stringify(JSON.parse(text)) in node
  };
  const Case cases[] = {
      {R"(["\ud800"])", "\xED\xA0\x80", R"(["\ud800"])"},
      {R"(["\uDBFFx"])", "\xED\xAF\xBFx", R"(["\udbffx"])"},
      {R"(["\ud800\ud800"])", "\xED\xA0\x80\xED\xA0\x80", R"(["\ud800\ud800"])"},
      {R"(["\ud800\u0041"])",
       "\xED\xA0\x80"
       "A",
       R"(["\ud800A"])"},
      {R"(["\ud800\n"])", "\xED\xA0\x80\n", R"(["\ud800\n"])"},
      {R"(["\ud83d\ud83d\ude00"])", "\xED\xA0\xBD\xF0\x9F\x98\x80",
       "[\"\\ud83d\xF0\x9F\x98\x80\"]"},
      {R"(["\udc00"])", "\xED\xB0\x80", R"(["\udc00"])"},  // RapidJSON stores a low one so
      {R"(["a\\ud800","\ud800"])", "a\\ud800", R"(["a\\ud800","\ud800"])"},
  };
  for (const auto& [text_, stored_, written_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& text = text_;
    const auto& stored = stored_;
    const auto& written = written_;
    CAPTURE(text);
    auto parsed = parse_json(text);
    REQUIRE(parsed.ok());
    const rapidjson::Value& first = (*parsed)[0];
    CHECK(std::string_view(first.GetString(), first.GetStringLength()) == stored);
    CHECK(to_json(*parsed) == written);
  }
}

TEST_CASE("parse_json reads a query page whose documents hold lone surrogates") {
  const std::string page =
      R"({"Documents":[{"id":"a","title":"\ud83d","body":"x"},{"id":"b","title":"\udc00"}],)"
      R"("_count":2})";
  auto parsed = parse_json(page);
  REQUIRE(parsed.ok());
  CHECK((*parsed)["Documents"].Size() == 2);
  CHECK(to_json(*parsed) == page);
}

TEST_CASE("parse_json errors name the offset in the text given, lone surrogates or not") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"a":"\ud800","b":})", "offset 18: Invalid value"},
      {R"({"a":"\u0041","b":})", "offset 18: Invalid value"},
      {R"({"a":"\ud800\ud800\ud800","b":tru})", "offset 33: Invalid value"},
      {R"(["\ud800)", "offset 8: Missing a closing quotation mark"},
      {R"(["\ud800\u00"])", "offset 2: Incorrect hex digit"},
      {R"([\ud800])", "offset 1: Invalid value"},
  };
  for (const auto& [text_, offset_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& text = text_;
    const auto& offset = offset_;
    CAPTURE(text);
    auto parsed = parse_json(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "invalid_json");
    CHECK(parsed.error().message.find(offset) != std::string::npos);
  }
}

TEST_CASE("string_member finds strings only") {
  auto parsed = parse_json(R"({"s":"x","n":1})");
  REQUIRE(parsed.ok());
  CHECK(string_member(*parsed, "s") == std::optional<std::string_view>("x"));
  CHECK_FALSE(string_member(*parsed, "n").has_value());
  CHECK_FALSE(string_member(*parsed, "absent").has_value());
  CHECK(find_member(*parsed, "n")->GetInt() == 1);
}

/// `depth` arrays, one inside the other, around a 0.
std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + "0" + std::string(depth, ']');
}

TEST_CASE("parse_json refuses nesting deeper than kMaxJsonDepth, however deep, without recursion") {
  // 100,000 levels overflowed the stack of RapidJSON's recursive parser (SIGSEGV).
  for (const std::string& deep : {nested_arrays(100'000), std::string(100'000, '['), [] {
                                    std::string objects;
                                    for (int i = 0; i < 100'000; ++i) objects += R"({"a":)";
                                    return objects + "0" + std::string(100'000, '}');
                                  }()}) {
    auto refused = parse_json(deep);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "invalid_json");
    CHECK(refused.error().message.find(": arrays and objects nested deeper than 256 levels") !=
          std::string::npos);
  }
  // The offset is the bracket one level too deep.
  auto one_too_many = parse_json(nested_arrays(kMaxJsonDepth + 1));
  REQUIRE_FALSE(one_too_many.ok());
  CHECK(one_too_many.error().message ==
        "invalid JSON at offset 256: arrays and objects nested deeper than 256 levels");
}

TEST_CASE("parse_json accepts exactly kMaxJsonDepth levels, and every walker handles them") {
  static_assert(kMaxJsonDepth > 128, "Cosmos DB documents nest up to 128 levels");
  const std::string text = nested_arrays(kMaxJsonDepth);
  auto parsed = parse_json(text);
  REQUIRE_MESSAGE(parsed.ok(), parsed.error().message);
  CHECK(to_json(*parsed) == text);  // append_json recurses once per level
  rapidjson::Document copy;
  copy.CopyFrom(*parsed, copy.GetAllocator());  // so do CopyFrom and operator==
  CHECK(copy == *parsed);
  // A caller may allow more (a state file wraps a manifest), or less.
  CHECK(parse_json(nested_arrays(kMaxJsonDepth + 1), kMaxJsonDepth + 1).ok());
  CHECK_FALSE(parse_json(nested_arrays(3), 2).ok());
}

TEST_CASE("parse_exact_in_place keeps the strings in the caller's buffer, with the same limits") {
  std::string text = R"({"k":"a\u0062c","n":[1.5,-2]})";
  rapidjson::Document document;
  REQUIRE_FALSE(parse_exact_in_place(document, text.data()).has_value());
  const rapidjson::Value& k = document["k"];
  CHECK(std::string_view(k.GetString(), k.GetStringLength()) == "abc");
  CHECK(k.GetString() >= text.data());
  CHECK(k.GetString() < text.data() + text.size());  // not a copy
  CHECK(document["n"][0].GetDouble() == 1.5);
  CHECK(document["n"][1].GetInt64() == -2);

  std::string deep = nested_arrays(100'000);
  rapidjson::Document refused;
  const auto failure = parse_exact_in_place(refused, deep.data());
  REQUIRE(failure.has_value());
  CHECK(failure->reason == "arrays and objects nested deeper than 256 levels");
}

}  // namespace backfilld::common
