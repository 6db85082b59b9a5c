#pragma once
/// Lowercase hex of raw bytes, as Node's Buffer.toString("hex") prints them: test vectors and
/// failure messages compare bytes this way.
#include <string>
#include <string_view>

namespace backfilld::testing {

inline std::string hex_of(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0xF]);
  }
  return hex;
}

}  // namespace backfilld::testing
