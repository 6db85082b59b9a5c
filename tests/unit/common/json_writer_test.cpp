#include "daemon/common/json_writer.hpp"

#include <doctest/doctest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "daemon/common/json.hpp"
#include "tests/support/hex.hpp"

namespace backfilld::common {
namespace {

rapidjson::Document parse(std::string_view text) {
  auto parsed = parse_json(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

std::string string_json(std::string_view bytes) {
  std::string out;
  append_json_string(bytes, out);
  return out;
}

using testing::hex_of;

/// What RapidJSON's own Writer writes for `value` (its numbers are the ones to keep).
std::string rapidjson_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

// Expected texts in this file are the UTF-8 bytes Node 20 writes, printed as C++ literals by a
// small script: for a JSON text t, Buffer.from(JSON.stringify(JSON.parse(t))); for raw bytes h,
// Buffer.from(JSON.stringify(Buffer.from(h, 'hex').toString())); for CESU-8 bytes, JSON.stringify
// of the JavaScript string of the code units they encode (e.g. '\ud800').

TEST_CASE("to_json writes the bytes JSON.stringify writes for what JSON.parse read") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      // clang-format off
      {R"("plain ascii, with spaces & punctuation: <>!#$%'()*+,-./:;=?@[]^_`{|}~")",
       "\"plain ascii, with spaces & punctuation: <>!#$%'()*+,-./:;=?@[]^_`{|}~\""},
      {R"("q\"b\\s\/slash")",
       "\"q\\\"b\\\\s/slash\""},
      {R"("\b\f\n\r\t")",
       "\"\\b\\f\\n\\r\\t\""},
      {R"("\u0000\u0001\u0007\u000b\u000e\u001b\u001f")",
       "\"\\u0000\\u0001\\u0007\\u000b\\u000e\\u001b\\u001f\""},
      {R"("\u001F\u000B\u0008\u000C\u000A\u000D\u0009\u0022\u005C\u002F")",
       "\"\\u001f\\u000b\\b\\f\\n\\r\\t\\\"\\\\/\""},
      {R"("\u007f DEL")",
       "\"\x7F DEL\""},
      {R"("\u2028\u2029 separators")",
       "\"\xE2\x80\xA8\xE2\x80\xA9 separators\""},
      {R"("\u0080\u009f C1, \ufeff BOM, \uffff, \ufffd")",
       "\"\xC2\x80\xC2\x9F C1, \xEF\xBB\xBF BOM, \xEF\xBF\xBF, \xEF\xBF\xBD\""},
      {R"("\u00e9 é ☃ 中文 テキスト ユーザー")",
       "\"\xC3\xA9 \xC3\xA9 \xE2\x98\x83 \xE4\xB8\xAD\xE6\x96\x87 \xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88 \xE3\x83\xA6\xE3\x83\xBC\xE3\x82\xB6\xE3\x83\xBC\""},
      {R"("\ud83d\ude00 😀 \uD83D\uDE00 🇯🇵 👩‍💻 \udbff\udfff")",
       "\"\xF0\x9F\x98\x80 \xF0\x9F\x98\x80 \xF0\x9F\x98\x80 \xF0\x9F\x87\xAF\xF0\x9F\x87\xB5 \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB \xF4\x8F\xBF\xBF\""},
      {R"("\udc00")",
       "\"\\udc00\""},
      {R"("\ud800")",
       "\"\\ud800\""},
      {R"("\ud800x")",
       "\"\\ud800x\""},
      {R"("x\udbff")",
       "\"x\\udbff\""},
      {R"("\ud800\ud800")",
       "\"\\ud800\\ud800\""},
      {R"("\udc00\ud800")",
       "\"\\udc00\\ud800\""},
      {R"("\ud800\u0041")",
       "\"\\ud800A\""},
      {R"("\uDFFF\uDBFF")",
       "\"\\udfff\\udbff\""},
      {R"("\ud83d\ude00\ude00")",
       "\"\xF0\x9F\x98\x80\\ude00\""},
      {R"("\ud83d\ud83d\ude00")",
       "\"\\ud83d\xF0\x9F\x98\x80\""},
      {R"("\ud800\n")",
       "\"\\ud800\\n\""},
      {R"("a\\ud800")",
       "\"a\\\\ud800\""},
      {R"("")",
       "\"\""},
      {R"({"k\n":"v\u0001","é":["\u007f","\u2028"],"\ud800":"lone key","\udc00":null})",
       "{\"k\\n\":\"v\\u0001\",\"\xC3\xA9\":[\"\x7F\",\"\xE2\x80\xA8\"],\"\\ud800\":\"lone key\",\"\\udc00\":null}"},
      {R"({"z":1,"a":[{"y":null,"b":[true,false,[],{}]}],"m":{"":""},"_etag":"\"0b00-0000\""})",
       "{\"z\":1,\"a\":[{\"y\":null,\"b\":[true,false,[],{}]}],\"m\":{\"\":\"\"},\"_etag\":\"\\\"0b00-0000\\\"\"}"},
      {R"([[[[["deep"]]]],{"a":{"b":{"c":{}}}},-1,0,42,9007199254740991])",
       "[[[[[\"deep\"]]]],{\"a\":{\"b\":{\"c\":{}}}},-1,0,42,9007199254740991]"},
      {R"({"id":"n1","body":"# Title\n\n- [ ] \"todo\"\tC:\\path\r\nline\u2028end 😀","tags":["a","b"]})",
       "{\"id\":\"n1\",\"body\":\"# Title\\n\\n- [ ] \\\"todo\\\"\\tC:\\\\path\\r\\nline\xE2\x80\xA8" "end \xF0\x9F\x98\x80\",\"tags\":[\"a\",\"b\"]}"},
      // clang-format on
  };
  for (const auto& [text_, expected_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& text = text_;
    const auto& expected = expected_;
    CAPTURE(text);
    const std::string written = to_json(parse(text));
    CHECK(hex_of(written) == hex_of(expected));
    CHECK(to_json(parse(written)) == written);  // what was written reads back to itself
  }
}

TEST_CASE("append_json_string escapes every ASCII byte as JSON.stringify does, at any offset") {
  // node: JSON.stringify(String.fromCharCode(0, 1, ..., 127))
  const std::string_view all_ascii_json =
      "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u00"
      "0f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001"
      "c\\u001d\\u001e\\u001f !\\\"#$%&'()*+,-./"
      "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7F\"";
  std::string all_ascii;
  for (int c = 0; c < 128; ++c) all_ascii.push_back(static_cast<char>(c));
  // Every offset modulo the 8-byte words the writer scans, with text after too.
  for (std::size_t prefix = 0; prefix < 17; ++prefix) {
    CAPTURE(prefix);
    const std::string padding(prefix, 'x');
    std::string expected(all_ascii_json);
    expected.insert(1, padding);
    expected.insert(expected.size() - 1, padding);
    CHECK(string_json(padding + all_ascii + padding) == expected);
  }
}

TEST_CASE("append_json_string finds one special byte at each position of a long plain run") {
  const std::pair<std::string_view, std::string_view> specials[] = {
      {"\"", "\\\""},
      {"\\", "\\\\"},
      {"\n", "\\n"},
      {std::string_view("\0", 1), "\\u0000"},
      {"\x1f", "\\u001f"},
      {"\xC3\xA9", "\xC3\xA9"},                          // é stays raw
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},          // 😀 stays raw
      {"\xED\xB0\x80", "\\udc00"},                       // CESU-8 lone low surrogate
      {"\xED\xA0\xBD\xED\xB8\x80", "\xF0\x9F\x98\x80"},  // CESU-8 pair
      {"\xFF", "\xEF\xBF\xBD"},                          // not UTF-8
      {"\xE2\x98", "\xEF\xBF\xBD"},                      // truncated
  };
  for (const auto& [special_, escaped_] : specials) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& special = special_;
    const auto& escaped = escaped_;
    for (std::size_t at = 0; at <= 24; ++at) {
      CAPTURE(hex_of(special));
      CAPTURE(at);
      const std::string before(at, 'a');
      const std::string after(24 - at, 'b');
      const std::string text = before + std::string(special) + after;
      CHECK(string_json(text) == "\"" + before + std::string(escaped) + after + "\"");
    }
  }
}

TEST_CASE("append_json_string writes bytes that are not UTF-8 as Node decodes them") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      // clang-format off
      {"\xFF", "\"\xEF\xBF\xBD\""},
      {"\xFE", "\"\xEF\xBF\xBD\""},
      {"\x80", "\"\xEF\xBF\xBD\""},
      {"a\xFF" "b", "\"a\xEF\xBF\xBD" "b\""},
      {"\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xE0\x80\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xED\xA0", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xE2\x98", "\"\xEF\xBF\xBD\""},
      {"\xE2\x98" "A", "\"\xEF\xBF\xBD" "A\""},
      {"\xF0\x9F\x98", "\"\xEF\xBF\xBD\""},
      {"\xF0\x9F\x98" "A", "\"\xEF\xBF\xBD" "A\""},
      {"\xF4\x90\x80\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xF8\x88\x80\x80\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xC2", "\"\xEF\xBF\xBD\""},
      {"\xED\xC0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"\xED\x9F\xBF", "\"\xED\x9F\xBF\""},
      {"\xEE\x80\x80", "\"\xEE\x80\x80\""},
      {"\xF0\x90\x80\x80", "\"\xF0\x90\x80\x80\""},
      {"\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""},
      {"\xC3", "\"\xEF\xBF\xBD\""},
      {"\xC3\xA9", "\"\xC3\xA9\""},
      {"\xE2", "\"\xEF\xBF\xBD\""},
      {"\xEF\xBF\xBD", "\"\xEF\xBF\xBD\""},
      // clang-format on
  };
  for (const auto& [bytes_, expected_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& bytes = bytes_;
    const auto& expected = expected_;
    CAPTURE(hex_of(bytes));
    CHECK(hex_of(string_json(bytes)) == hex_of(expected));
  }
}

TEST_CASE("CESU-8 surrogates are UTF-16 code units: pairs become one character, lone ones \\u") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      // clang-format off
      {"\xED\xA0\x80", "\"\\ud800\""},
      {"\xED\xB0\x80", "\"\\udc00\""},
      {"\xED\xA0\xBD\xED\xB8\x80", "\"\xF0\x9F\x98\x80\""},
      {"\xED\xB0\x80\xED\xA0\x80", "\"\\udc00\\ud800\""},
      {"\xED\xA0\x80\xED\xA0\x80\xED\xB0\x80", "\"\\ud800\xF0\x90\x80\x80\""},
      {"\xED\xA0\x80" "a", "\"\\ud800a\""},
      {"\xF0\x9F\x98\x80\xED\xB8\x80", "\"\xF0\x9F\x98\x80\\ude00\""},
      {"\xED\xA0\xBD\xF0\x9F\x98\x80", "\"\\ud83d\xF0\x9F\x98\x80\""},
      {"\xED\xAF\xBF\xED\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""},
      // clang-format on
  };
  for (const auto& [bytes_, expected_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& bytes = bytes_;
    const auto& expected = expected_;
    CAPTURE(hex_of(bytes));
    CHECK(hex_of(string_json(bytes)) == hex_of(expected));
  }
}

TEST_CASE("append_json appends to what is there, and writes a string value and keys alike") {
  std::string out = "prefix:";
  append_json(parse(R"({"a\u0001":"b\u0001"})"), out);
  CHECK(out == R"(prefix:{"a\u0001":"b\u0001"})");
  CHECK(to_json(rapidjson::Value("x\ny")) == R"("x\ny")");
  CHECK(to_json(parse("[]")) == "[]");
  CHECK(to_json(parse("{}")) == "{}");
  CHECK(string_json(std::string_view()) == R"("")");  // null data, no bytes
  // Growing the same string value by value stays correct (the writer claims space ahead).
  std::string many;
  for (int i = 0; i < 1000; ++i) append_json(parse(R"(["\n",1.5])"), many);
  CHECK(many.size() == 1000 * std::string_view(R"(["\n",1.5])").size());
}

TEST_CASE("members keep their order, including keys JavaScript would reorder") {
  // JSON.stringify(JSON.parse(...)) would put "1" and "10" first: backfilld keeps Cosmos's order.
  const std::string text = R"({"z":0,"10":1,"b":2,"1":3,"a":{"y":4,"x":5}})";
  CHECK(to_json(parse(text)) == text);
  // Cosmos never sends duplicate names; were there any, they would be kept too.
  CHECK(to_json(parse(R"({"a":1,"b":2,"a":3})")) == R"({"a":1,"b":2,"a":3})");
}

TEST_CASE("numbers are written as RapidJSON writes them and read back to the same value") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"0", "0"},
      {"-0", "0"},  // RapidJSON reads -0 as the integer 0; JSON.stringify(-0) is "0" too
      {"-0.0", "-0.0"},
      {"1.5", "1.5"},
      {"0.1", "0.1"},
      // Grisu2 picks another 17-digit text of the same double than JavaScript's shortest one.
      {"0.30000000000000004", "0.30000000000000007"},
      {"1e-7", "1e-7"},
      {"-1.5e-10", "-1.5e-10"},
      {"1e300", "1e300"},
      {"1.5e+300", "1.5e300"},
      {"1.0", "1.0"},  // a double stays a double; JavaScript writes 1
      {"100", "100"},
      {"1e2", "100.0"},
      {"1e21", "1e21"},  // JavaScript writes 1e+21
      {"123456789012345680000", "123456789012345680000.0"},
      {"9007199254740993", "9007199254740993"},  // 2^53 + 1 stays exact
      {"-9007199254740993", "-9007199254740993"},
      {"2147483647", "2147483647"},
      {"-2147483648", "-2147483648"},
      {"4294967295", "4294967295"},
      {"4294967296", "4294967296"},
      {"-9223372036854775808", "-9223372036854775808"},  // -2^63
      {"9223372036854775807", "9223372036854775807"},
      {"18446744073709551615", "18446744073709551615"},    // 2^64 - 1
      {"18446744073709551616", "18446744073709553000.0"},  // 2^64: a double from here on
      {"1.7976931348623157e308", "1.7976931348623157e308"},
      {"-1.7976931348623157e308", "-1.7976931348623157e308"},
      {"2.2250738585072014e-308", "2.2250738585072014e-308"},
      {"5e-324", "5e-324"},
      {"123.456e-2", "1.23456"},
  };
  for (const auto& [text_, expected_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& text = text_;
    const auto& expected = expected_;
    CAPTURE(text);
    const rapidjson::Document parsed = parse(text);
    const std::string written = to_json(parsed);
    CHECK(written == expected);
    CHECK(written == rapidjson_text(parsed));
    const rapidjson::Document reread = parse(written);
    CHECK(reread == parsed);
    CHECK(reread.IsDouble() == parsed.IsDouble());
    CHECK(reread.IsUint64() == parsed.IsUint64());
    CHECK(reread.IsInt64() == parsed.IsInt64());
    if (parsed.IsDouble()) {
      CHECK(std::bit_cast<std::uint64_t>(reread.GetDouble()) ==
            std::bit_cast<std::uint64_t>(parsed.GetDouble()));
    } else if (parsed.IsInt64()) {
      CHECK(reread.GetInt64() == parsed.GetInt64());
    } else {
      CHECK(reread.GetUint64() == parsed.GetUint64());
    }
  }
}

TEST_CASE("random doubles and integers: RapidJSON's text, and back to the same bits") {
  std::mt19937_64 random(7);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t bits = random();
    const double number = std::bit_cast<double>(bits);
    if (!std::isfinite(number)) continue;
    const rapidjson::Value value(number);
    const std::string written = to_json(value);
    CAPTURE(written);
    CHECK(written == rapidjson_text(value));
    const rapidjson::Document reread = parse(written);
    REQUIRE(reread.IsDouble());
    CHECK(std::bit_cast<std::uint64_t>(reread.GetDouble()) == bits);

    const auto integer = static_cast<std::int64_t>(bits);
    CHECK(to_json(rapidjson::Value(integer)) == std::to_string(integer));
    CHECK(to_json(rapidjson::Value(bits)) == std::to_string(bits));
  }
}

TEST_CASE("NaN and infinities are written as null, as JSON.stringify writes them") {
  CHECK(to_json(rapidjson::Value(std::numeric_limits<double>::quiet_NaN())) == "null");
  CHECK(to_json(rapidjson::Value(std::numeric_limits<double>::infinity())) == "null");
  CHECK(to_json(rapidjson::Value(-std::numeric_limits<double>::infinity())) == "null");
}

}  // namespace backfilld::common
