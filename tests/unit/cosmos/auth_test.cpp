#include "daemon/cosmos/auth.hpp"

#include <doctest/doctest.h>

namespace backfilld::cosmos {

// Published vectors, COSMOS_NOTES.md "Master-key authorization".
TEST_CASE("master-key signature matches the REST documentation's example") {
  auto key = MasterKey::from_base64(
      "dsZQi3KtZmCv1ljt3VNWNm7sQUF1y5rJfC6kv5JiwvW0EndXdDku/dkKBp8/ufDToSxLzR4y+O/0H/t4bQtVNw==");
  REQUIRE(key.ok());
  CHECK(key->signature("GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT") ==
        "c09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu+c+c=");
  CHECK(key->authorization("GET", "dbs", "dbs/ToDoList", "Thu, 27 Apr 2017 00:51:12 GMT") ==
        "type%3Dmaster%26ver%3D1.0%26sig%3Dc09PEVJrgp2uQRkr934kFbTqhByc7TVr3OHyqlu%2Bc%2Bc%3D");
}

TEST_CASE("master-key signature matches the SDK vectors for docs, pkranges and RID links") {
  auto key = MasterKey::from_base64("VGhpcyBpcyBhIHNhbXBsZSBzdHJpbmc=");
  REQUIRE(key.ok());
  const char* date = "tue, 21 jul 2020 17:55:37 gmt";
  CHECK(key->signature("get", "docs", "dpztakyoj5g=", date) ==
        "nWZ29vBWEbWx7UZlJP+TzbgHoYCVVy6mz004thDJuPc=");
  CHECK(
      key->signature("post", "docs",
                     "dbs/92dc837c73484349852a2c8f05777565/colls/ea9ebd7de6aa46d8bc0aa7e29b89236c",
                     date) == "dQGGlBUiVh2cX+LCTXt+fCyAkPRpChou//plVECIuyA=");
  CHECK(key->signature("get", "pkranges", "dpztakyoj5g=", date) ==
        "qH73yd16s9pr9e3X4azaZc97zyqs4oyxkB1L+LdsGbk=");
}

TEST_CASE("verb, type and date are lowercased but the resource link keeps its case") {
  auto key = MasterKey::from_base64("VGhpcyBpcyBhIHNhbXBsZSBzdHJpbmc=");
  REQUIRE(key.ok());
  CHECK(key->signature("GET", "DOCS", "dbs/A/colls/B", "Tue, 21 Jul 2020 17:55:37 GMT") ==
        key->signature("get", "docs", "dbs/A/colls/B", "tue, 21 jul 2020 17:55:37 gmt"));
  CHECK(key->signature("get", "docs", "dbs/A/colls/B", "x") !=
        key->signature("get", "docs", "dbs/a/colls/b", "x"));
}

TEST_CASE("a key that is not base64 is refused without echoing it") {
  auto bad = MasterKey::from_base64("not-base64!");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("COSMOS_KEY") != std::string::npos);
  CHECK(bad.error().message.find("not-base64!") == std::string::npos);
  CHECK_FALSE(MasterKey::from_base64("").ok());
  CHECK_FALSE(MasterKey::from_base64("QUJD*A==").ok());
}

TEST_CASE("rfc1123_date formats as x-ms-date expects") {
  // 2017-04-27T00:51:12Z
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1493254272));
  CHECK(rfc1123_date(when) == "Thu, 27 Apr 2017 00:51:12 GMT");
}

TEST_CASE("url_encode escapes reserved and non-ASCII bytes") {
  CHECK(url_encode("a b/c+d=é") == "a%20b%2Fc%2Bd%3D%C3%A9");
  CHECK(url_encode("Az09-_.~") == "Az09-_.~");
}

}  // namespace backfilld::cosmos
