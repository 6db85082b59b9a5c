#include "daemon/crypto/base64.hpp"

#include <doctest/doctest.h>

#include <string>

namespace backfilld::crypto {

TEST_CASE("base64_encode matches RFC 4648 section 10 vectors and base64_decode inverts them") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes_, text_] : vectors) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& bytes = bytes_;
    const auto& text = text_;
    CAPTURE(bytes);
    CHECK(base64_encode(bytes) == text);
    auto decoded = base64_decode(text);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
  }
}

TEST_CASE("base64 uses the standard alphabet (+ and /) and round-trips every byte value") {
  CHECK(base64_encode(std::string_view("\xFB\xFF\xBF", 3)) == "+/+/");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  for (std::size_t length = 0; length <= all.size(); ++length) {
    const std::string bytes = all.substr(all.size() - length);
    const std::string text = base64_encode(bytes);
    CHECK(text.size() == base64_encoded_size(bytes.size()));
    auto decoded = base64_decode(text);
    REQUIRE(decoded.ok());
    CHECK(*decoded == bytes);
  }
}

TEST_CASE("base64_decode rejects bad lengths, characters, padding and non-canonical text") {
  const std::pair<std::string_view, std::string_view> rejected[] = {
      {"Zg=", "not a multiple of 4"},
      {"Zm9vY", "not a multiple of 4"},
      {"Zm9v!A==", "offset 4"},
      {"Zm9-", "offset 3"},  // URL-safe alphabet is not base64 here
      {"Zm9_", "offset 3"},
      {"Zm9v\nZm9v", "not a multiple of 4"},
      {"Zm 9", "offset 2"},
      {"Zg==Zg==", "offset 2"},  // padding only at the end
      {"Z===", "offset 1"},
      {"====", "offset 0"},
      {"Zh==", "non-zero padding bits"},  // "Zg==" is the only text of "f"
      {"Zm9=", "non-zero padding bits"},
  };
  for (const auto& [text_, reason_] : rejected) {
    // Named again: clang 14 cannot capture bindings in doctest's assertion lambdas.
    const auto& text = text_;
    const auto& reason = reason_;
    CAPTURE(text);
    auto decoded = base64_decode(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "invalid_base64");
    CHECK(decoded.error().message.find(reason) != std::string::npos);
    CHECK(decoded.error().message.find(text) == std::string::npos);
  }
}

}  // namespace backfilld::crypto
