#include "daemon/crypto/envelope.hpp"

#include <doctest/doctest.h>

#include <string>

#include "daemon/common/json.hpp"
#include "daemon/crypto/base64.hpp"
#include "tests/support/hex.hpp"

namespace backfilld::crypto {
namespace {

/// The key of the test vectors: bytes 00 01 .. 1f.
constexpr KeyBytes kVectorKey = [] {
  KeyBytes key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  return key;
}();

Iv iv_of_base64(std::string_view text) {
  auto bytes = base64_decode(text);
  REQUIRE(bytes.ok());
  Iv iv{};
  REQUIRE(bytes->size() == iv.size());
  std::copy(bytes->begin(), bytes->end(), iv.begin());
  return iv;
}

Iv iv_filled_with(unsigned char byte) {
  Iv iv;
  iv.fill(byte);
  return iv;
}

using testing::hex_of;

rapidjson::Document parse(std::string_view text) {
  auto parsed = common::parse_json(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

/// One vector computed by tests/interop/make_vectors.mjs with node:crypto (docs/ENVELOPE.md).
struct Vector {
  std::string_view context;
  std::string_view user_id;
  std::string_view plaintext;  ///< JSON.stringify(value), also the value's JSON text here
  std::string_view aad_hex;    ///< hex of JSON.stringify([context, userId]) in UTF-8
  std::string_view iv_base64;
  std::string_view envelope;  ///< JSON.stringify of the envelope Node writes
};

// clang-format off
const Vector kVectors[] = {
    {"notes", "user-1",
     R"("hello world")",
     "5b226e6f746573222c22757365722d31225d",
     "yv66vvrO263eyviA",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviA","ct":"wHcSjXtfJzo2l8MEQr+5jU1klQqWOpBlgIozz/0="})"},
    {"notes", "user-1",
     R"("café ☃ 😀 中文テキスト")",
     "5b226e6f746573222c22757365722d31225d",
     "yv66vvrO263eyviB",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviB","ct":"x2157AH+P21d0I1gDyEld8ZLB4DAliDau1ySHsCssLi63TUyANfx979j8WG78tIzbvNs"})"},
    {"palace-memory", "u\x01ser\n",
     R"("tab\there \"quoted\" back\\slash")",
     "5b2270616c6163652d6d656d6f7279222c22755c75303030317365725c6e225d",
     "yv66vvrO263eyviC",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviC","ct":"tpQTKH0i83jH6PURAZGCBO3qlRgFngjZutPlUUcli4oRl04QI053PdCFtx8dTMtZ2Us="})"},
    {"note_prompts", "ユーザー42",
     R"(42)",
     "5b226e6f74655f70726f6d707473222c22e383a6e383bce382b6e383bc3432225d",
     "yv66vvrO263eyviD",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviD","ct":"0BBW8MPKCK2Ed7YboaaBmwjN"})"},
    {"note_artifacts", "user-1",
     R"(-3.25)",
     "5b226e6f74655f617274696661637473222c22757365722d31225d",
     "yv66vvrO263eyviE",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviE","ct":"QZez+/ij8s07bfmQUoTI69X6lMyo"})"},
    {"note_agent_actions", "user-1",
     R"({"summary":"é","steps":[1,2.5,null,true,false],"nested":{"k":"v"}})",
     "5b226e6f74655f6167656e745f616374696f6e73222c22757365722d31225d",
     "yv66vvrO263eyviF",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviF","ct":"AglLNJaQ5XtHG6q7jypEuv8unKS5NeFfV64NL7HYFYk8A670gQGBEYLPhs3p/SjLhGwpFas/hPOuC5xiMomG6IHkFVNskaLqyn2l2UkvemkJW4M="})"},
    {"notes", "user-1",
     R"("")",
     "5b226e6f746573222c22757365722d31225d",
     "yv66vvrO263eyviG",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviG","ct":"o8uk3edts56VQENw+Q23RLN3"})"},
    {"notes", "user-1",
     "\"\\u0000\\u001f\x7F\xE2\x80\xA8\"",
     "5b226e6f746573222c22757365722d31225d",
     "yv66vvrO263eyviH",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviH","ct":"ExTskdOgJGqGnkSP7Agzu1y3So3uXyg6s8Riwn6B1iZCwg=="})"},
    {"notes", "\xED\xB0\x80lone",
     R"("x")",
     "5b226e6f746573222c225c75646330306c6f6e65225d",
     "yv66vvrO263eyviI",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviI","ct":"qNuCed3ZJaOkUi1aMNcZn7DJEA=="})"},
    {"note_prompts", "user-1",
     R"(["a",1,{"b":null}])",
     "5b226e6f74655f70726f6d707473222c22757365722d31225d",
     "yv66vvrO263eyviJ",
     R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"yv66vvrO263eyviJ","ct":"1wjFPCOYW7FTdYrUPlvWRcX1g5OV581D6qQ32mBE6otLow=="})"},
};
// clang-format on

}  // namespace

TEST_CASE("seal matches the node:crypto test vectors byte for byte") {
  StaticKeyring keyring("env", "k1", {{"k1", kVectorKey}});
  for (const Vector& vector : kVectors) {
    CAPTURE(vector.plaintext);
    rapidjson::Document document = parse(vector.plaintext);
    CHECK(plaintext_of(document) == vector.plaintext);
    const std::string aad = make_aad(vector.context, vector.user_id);
    CHECK(hex_of(aad) == vector.aad_hex);

    REQUIRE(encrypt_in_place(keyring, vector.context, vector.user_id,
                             iv_of_base64(vector.iv_base64), document, document.GetAllocator())
                .ok());
    CHECK(common::to_json(document) == vector.envelope);

    auto envelope = parse_envelope(document);
    REQUIRE(envelope.ok());
    auto opened = open(keyring, *envelope, aad);
    REQUIRE(opened.ok());
    CHECK(*opened == vector.plaintext);
  }
}

TEST_CASE("open decrypts the node:crypto test vectors") {
  StaticKeyring keyring("env", "k1", {{"k1", kVectorKey}});
  for (const Vector& vector : kVectors) {
    CAPTURE(vector.plaintext);
    auto envelope = parse_envelope(parse(vector.envelope));
    REQUIRE(envelope.ok());
    auto opened = open(keyring, *envelope, make_aad(vector.context, vector.user_id));
    REQUIRE(opened.ok());
    CHECK(*opened == vector.plaintext);
  }
}

TEST_CASE("seal then open round-trips strings, numbers, booleans, objects and arrays") {
  StaticKeyring keyring("env", "k1", {{"k1", kVectorKey}});
  const char* values[] = {R"("")",
                          R"("plain")",
                          R"("h\u00e9llo \u2603 \ud83d\ude00 \u4e2d")",
                          "0",
                          "-17",
                          "9007199254740993",
                          "1.5e+300",
                          "1e-7",
                          "true",
                          "false",
                          R"({"a":{"b":[1,2.5,null,"x\n"]},"c":""})",
                          R"([[],{},""])"};
  for (const char* text : values) {
    CAPTURE(text);
    rapidjson::Document document = parse(text);
    const std::string original = plaintext_of(document);
    REQUIRE(
        encrypt_in_place(keyring, "notes", "user-1", random_iv(), document, document.GetAllocator())
            .ok());
    REQUIRE(is_envelope(document));
    auto envelope = parse_envelope(document);
    REQUIRE(envelope.ok());
    auto opened = open(keyring, *envelope, make_aad("notes", "user-1"));
    REQUIRE(opened.ok());
    CHECK(*opened == original);
    CHECK(parse(*opened) == parse(text));
  }
}

TEST_CASE(
    "seal_value leaves the value as it is and write_envelope writes the v1 members in order") {
  StaticKeyring keyring("env", "k1", {{"k1", kVectorKey}});
  rapidjson::Document document = parse(R"({"body":"secret"})");
  rapidjson::Value sealed;
  REQUIRE(seal_value(keyring, "notes", "u", iv_filled_with(1), document["body"], sealed,
                     document.GetAllocator())
              .ok());
  CHECK(common::to_json(document) == R"({"body":"secret"})");
  auto envelope = parse_envelope(sealed);
  REQUIRE(envelope.ok());
  CHECK(envelope->kid == "k1");
  CHECK(envelope->iv == iv_filled_with(1));

  rapidjson::Value rewritten;
  write_envelope(*envelope, rewritten, document.GetAllocator());
  CHECK(rewritten == sealed);
  const std::string text = common::to_json(rewritten);
  CHECK(text.starts_with(
      R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1","iv":"AQEBAQEBAQEBAQEB","ct":")"));
}

TEST_CASE("an envelope owns its strings, so copies outlive the document it was sealed in") {
  StaticKeyring keyring("env", "k1", {{"k1", kVectorKey}});
  rapidjson::Document copy;
  std::string expected;
  {
    rapidjson::Document original = parse(R"({"body":"secret"})");
    REQUIRE(encrypt_in_place(keyring, "notes", "u", iv_filled_with(1), original["body"],
                             original.GetAllocator())
                .ok());
    expected = common::to_json(original);
    copy.CopyFrom(original, copy.GetAllocator());
    // RapidJSON copies const strings by reference; owned strings are copied.
    for (const char* member : {"kid", "iv", "ct"}) {
      CAPTURE(member);
      CHECK(copy["body"][member].GetString() != original["body"][member].GetString());
    }
  }
  CHECK(common::to_json(copy) == expected);
}

TEST_CASE("open detects tampering, wrong AAD, wrong key and unknown kid") {
  StaticKeyring keyring("env", "k1", {{"k1", kVectorKey}});
  auto sealed = seal(keyring, R"("the note body")", make_aad("notes", "user-1"), iv_filled_with(7));
  REQUIRE(sealed.ok());
  REQUIRE(open(keyring, *sealed, make_aad("notes", "user-1")).ok());

  const auto expect_failure = [&](const Keyring& ring, const Envelope& envelope,
                                  const std::string& aad, std::string_view code) {
    auto opened = open(ring, envelope, aad);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == code);
    CHECK(opened.error().message.find("the note body") == std::string::npos);
  };
  const std::string aad = make_aad("notes", "user-1");

  for (std::size_t byte : {std::size_t{0}, sealed->ciphertext_and_tag.size() - 1}) {
    Envelope flipped = *sealed;  // first ciphertext byte, then last tag byte
    flipped.ciphertext_and_tag[byte] = static_cast<char>(flipped.ciphertext_and_tag[byte] ^ 0x01);
    expect_failure(keyring, flipped, aad, "decrypt_failed");
  }
  Envelope other_iv = *sealed;
  other_iv.iv[11] ^= 0x80;
  expect_failure(keyring, other_iv, aad, "decrypt_failed");
  Envelope truncated = *sealed;
  truncated.ciphertext_and_tag.pop_back();
  expect_failure(keyring, truncated, aad, "decrypt_failed");

  expect_failure(keyring, *sealed, make_aad("notes", "user-2"), "decrypt_failed");
  expect_failure(keyring, *sealed, make_aad("palace-memory", "user-1"), "decrypt_failed");

  KeyBytes other_key = kVectorKey;
  other_key[0] ^= 0x01;
  StaticKeyring wrong_key("env", "k1", {{"k1", other_key}});
  expect_failure(wrong_key, *sealed, aad, "decrypt_failed");

  StaticKeyring without_k1("env", "k2", {{"k2", kVectorKey}});
  expect_failure(without_k1, *sealed, aad, "unknown_kid");
}

TEST_CASE("after rotation the primary encrypts and older kids still decrypt") {
  StaticKeyring before("file", "k1", {{"k1", kVectorKey}});
  auto old_envelope = seal(before, "1", "[\"c\",\"u\"]", iv_filled_with(2));
  REQUIRE(old_envelope.ok());
  CHECK(old_envelope->kid == "k1");

  KeyBytes new_key = kVectorKey;
  new_key[31] ^= 0xFF;
  StaticKeyring after("file", "k2", {{"k1", kVectorKey}, {"k2", new_key}});
  auto new_envelope = seal(after, "2", "[\"c\",\"u\"]", iv_filled_with(3));
  REQUIRE(new_envelope.ok());
  CHECK(new_envelope->kid == "k2");

  CHECK(*open(after, *old_envelope, "[\"c\",\"u\"]") == "1");
  CHECK(*open(after, *new_envelope, "[\"c\",\"u\"]") == "2");
  CHECK(open(before, *new_envelope, "[\"c\",\"u\"]").error().code == "unknown_kid");
}

TEST_CASE("seal and encrypt_in_place fail cleanly when the keyring lacks its primary key") {
  StaticKeyring broken("file", "k2", {{"k1", kVectorKey}});
  auto sealed = seal(broken, "1", "[]", iv_filled_with(0));
  REQUIRE_FALSE(sealed.ok());
  CHECK(sealed.error().code == "unknown_kid");

  rapidjson::Document document = parse(R"({"body":"keep me"})");
  auto encrypted = encrypt_in_place(broken, "notes", "u", iv_filled_with(0), document["body"],
                                    document.GetAllocator());
  REQUIRE_FALSE(encrypted.ok());
  CHECK(common::to_json(document) == R"({"body":"keep me"})");
}

TEST_CASE("is_envelope is true only for objects with \"__encrypted\": true") {
  CHECK(is_envelope(parse(R"({"__encrypted":true})")));
  CHECK(is_envelope(parse(R"({"__encrypted":true,"v":9})")));
  CHECK_FALSE(is_envelope(parse(R"({"__encrypted":false,"v":1})")));
  CHECK_FALSE(is_envelope(parse(R"({"__encrypted":"true"})")));
  CHECK_FALSE(is_envelope(parse(R"({"__encrypted":1})")));
  CHECK_FALSE(is_envelope(parse(R"({"encrypted":true})")));
  CHECK_FALSE(is_envelope(parse(R"("__encrypted")")));
  CHECK_FALSE(is_envelope(parse(R"([{"__encrypted":true}])")));
  CHECK_FALSE(is_envelope(parse("null")));
}

TEST_CASE("parse_envelope names each defect of a malformed envelope") {
  const std::string iv = R"("iv":"AAAAAAAAAAAAAAAA")";
  const std::string ct = R"("ct":"AAAAAAAAAAAAAAAAAAAAAA==")";  // 16 bytes: an empty plaintext
  const std::string head = R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"k1",)";
  REQUIRE(parse_envelope(parse(head + iv + "," + ct + "}")).ok());
  CHECK(parse_envelope(parse(R"({"__encrypted":true,"v":1.0,"alg":"A256GCM","kid":"k1",)" + iv +
                             "," + ct + "}"))
            .ok());

  const std::pair<std::string, std::string_view> defects[] = {
      {R"({"__encrypted":false})", "\"__encrypted\" is not true"},
      {R"({"__encrypted":true,"alg":"A256GCM","kid":"k1",)" + iv + "," + ct + "}",
       "\"v\" must be 1"},
      {R"({"__encrypted":true,"v":2,"alg":"A256GCM","kid":"k1",)" + iv + "," + ct + "}",
       "\"v\" must be 1"},
      {R"({"__encrypted":true,"v":"1","alg":"A256GCM","kid":"k1",)" + iv + "," + ct + "}",
       "\"v\" must be 1"},
      {R"({"__encrypted":true,"v":1,"kid":"k1",)" + iv + "," + ct + "}",
       "\"alg\" must be \"A256GCM\""},
      {R"({"__encrypted":true,"v":1,"alg":"A128GCM","kid":"k1",)" + iv + "," + ct + "}",
       "\"alg\" must be \"A256GCM\""},
      {R"({"__encrypted":true,"v":1,"alg":"A256GCM",)" + iv + "," + ct + "}",
       "\"kid\" must be a non-empty string"},
      {R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":"",)" + iv + "," + ct + "}",
       "\"kid\" must be a non-empty string"},
      {R"({"__encrypted":true,"v":1,"alg":"A256GCM","kid":7,)" + iv + "," + ct + "}",
       "\"kid\" must be a non-empty string"},
      {head + ct + "}", "\"iv\" must be a base64 string"},
      {head + R"("iv":12,)" + ct + "}", "\"iv\" must be a base64 string"},
      {head + R"("iv":"AAAA*AAAAAAAAAAA",)" + ct + "}", "\"iv\" is not valid base64"},
      {head + R"("iv":"AAAAAAAAAAA=",)" + ct + "}", "\"iv\" must be 12 bytes, got 8"},
      {head + iv + "}", "\"ct\" must be a base64 string"},
      {head + iv + R"(,"ct":"AAAAAAAAAAAAAAAAAAAAAA=")" + "}", "\"ct\" is not valid base64"},
      {head + iv + R"(,"ct":"AAAAAAAAAAAAAAAAAAAA")" + "}",
       "\"ct\" must hold at least the 16-byte tag, got 15 bytes"},
  };
  for (const auto& [text_, defect_] : defects) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& text = text_;
    const auto& defect = defect_;
    CAPTURE(text);
    auto parsed = parse_envelope(parse(text));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "malformed_envelope");
    CHECK(parsed.error().message.find(defect) != std::string::npos);
  }
}

TEST_CASE("make_aad escapes exactly as JSON.stringify([context, userId])") {
  // Expected texts checked with node: JSON.stringify(["c", s]); invalid bytes as
  // Buffer.from(bytes).toString() decodes them.
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"plain", R"(["c","plain"])"},
      {"q\"b\\s/", R"(["c","q\"b\\s/"])"},
      {"\b\f\n\r\t", R"(["c","\b\f\n\r\t"])"},
      {std::string_view("\x00\x01\x1f", 3), R"(["c","\u0000\u0001\u001f"])"},
      {"\x0b\x1b", R"(["c","\u000b\u001b"])"},
      {"\x7f", "[\"c\",\"\x7f\"]"},                             // DEL stays raw
      {"é☃😀中\u2028", "[\"c\",\"é☃😀中\u2028\"]"},               // raw UTF-8, U+2028 too
      {"\xED\xB0\x80", R"(["c","\udc00"])"},                    // lone low surrogate
      {"\xED\xA0\x80x", R"(["c","\ud800x"])"},                  // lone high surrogate
      {"\xED\xA0\x80\xED\xA0\x80", R"(["c","\ud800\ud800"])"},  // two highs
      {"\xED\xB0\x80\xED\xA0\x80", R"(["c","\udc00\ud800"])"},  // low then high
      {"\xED\xA0\xBD\xED\xB8\x80", "[\"c\",\"😀\"]"},            // a CESU-8 pair is one char
      {"a\xFF"
       "b",
       "[\"c\",\"a\xEF\xBF\xBD"
       "b\"]"},                                  // not UTF-8: U+FFFD
      {"\xE2\x98", "[\"c\",\"\xEF\xBF\xBD\"]"},  // truncated: one U+FFFD
      {"\xE2\x98"
       "A",
       "[\"c\",\"\xEF\xBF\xBD"
       "A\"]"},
      {"\xC0\xAF", "[\"c\",\"\xEF\xBF\xBD\xEF\xBF\xBD\"]"},  // overlong
      {"\xED\xA0"
       "A",
       "[\"c\",\"\xEF\xBF\xBD\xEF\xBF\xBD"
       "A\"]"},  // half a surrogate
      {"\xF4\x90\x80\x80", "[\"c\",\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"]"},
  };
  for (const auto& [user_id_, aad_] : cases) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& user_id = user_id_;
    const auto& aad = aad_;
    CAPTURE(hex_of(user_id));
    CHECK(make_aad("c", user_id) == aad);
  }
  CHECK(make_aad("", "") == R"(["",""])");
  CHECK(make_aad("palace-memory", "u\x01ser\n") == R"(["palace-memory","u\u0001ser\n"])");
}

TEST_CASE("plaintext_of writes strings as JSON.stringify does, keys included") {
  // node: JSON.stringify({"k\n": "v\u0001", "é": ["\u007f", "\u2028"]})
  rapidjson::Document document =
      parse(R"({"k\n":"v\u0001","\u00e9":["\u007f","\u2028"],"n":[1,-2.5,true,null]})");
  CHECK(plaintext_of(document) ==
        "{\"k\\n\":\"v\\u0001\",\"é\":[\"\x7f\",\"\u2028\"],\"n\":[1,-2.5,true,null]}");
  // RapidJSON stores the escape "\udc00" as CESU-8; the plaintext gives the escape back.
  CHECK(plaintext_of(parse(R"("a\udc00b")")) == R"("a\udc00b")");
}

TEST_CASE("random_iv draws fresh IVs") { CHECK(random_iv() != random_iv()); }

}  // namespace backfilld::crypto
