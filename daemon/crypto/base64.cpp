#include "daemon/crypto/base64.hpp"

#include <array>
#include <cstdint>

namespace backfilld::crypto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  for (std::uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<std::uint8_t, 256> kDecode = make_decode_table();

}  // namespace

void base64_encode_to(std::span<const unsigned char> bytes, char* out) {
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            std::uint32_t{bytes[i + 2]};
    *out++ = kAlphabet[(n >> 18) & 63];
    *out++ = kAlphabet[(n >> 12) & 63];
    *out++ = kAlphabet[(n >> 6) & 63];
    *out++ = kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  std::uint32_t n = std::uint32_t{bytes[i]} << 16;
  if (rest == 2) n |= std::uint32_t{bytes[i + 1]} << 8;
  *out++ = kAlphabet[(n >> 18) & 63];
  *out++ = kAlphabet[(n >> 12) & 63];
  *out++ = rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
  *out = '=';
}

std::string base64_encode(std::span<const unsigned char> bytes) {
  std::string text(base64_encoded_size(bytes.size()), '\0');
  base64_encode_to(bytes, text.data());
  return text;
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(
      std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

common::Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return common::fail("invalid_base64",
                        "base64 length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t data_chars = text.size() - padding;
  for (std::size_t i = 0; i < data_chars; ++i) {
    if (kDecode[static_cast<unsigned char>(text[i])] == kInvalid) {
      return common::fail("invalid_base64",
                          "invalid base64 character at offset " + std::to_string(i));
    }
  }

  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  std::size_t i = 0;
  for (; i + 4 <= data_chars; i += 4) {
    const std::uint32_t n =
        (std::uint32_t{kDecode[static_cast<unsigned char>(text[i])]} << 18) |
        (std::uint32_t{kDecode[static_cast<unsigned char>(text[i + 1])]} << 12) |
        (std::uint32_t{kDecode[static_cast<unsigned char>(text[i + 2])]} << 6) |
        std::uint32_t{kDecode[static_cast<unsigned char>(text[i + 3])]};
    bytes.push_back(static_cast<char>(n >> 16));
    bytes.push_back(static_cast<char>((n >> 8) & 0xFF));
    bytes.push_back(static_cast<char>(n & 0xFF));
  }
  if (padding == 0) return bytes;

  // The last group: 2 characters carry 1 byte (4 bits unused), 3 carry 2 bytes (2 bits unused).
  std::uint32_t n = (std::uint32_t{kDecode[static_cast<unsigned char>(text[i])]} << 18) |
                    (std::uint32_t{kDecode[static_cast<unsigned char>(text[i + 1])]} << 12);
  if (padding == 1) n |= std::uint32_t{kDecode[static_cast<unsigned char>(text[i + 2])]} << 6;
  const std::uint32_t unused_bits = padding == 2 ? (n & 0xFFFF) : (n & 0xFF);
  if (unused_bits != 0) {
    return common::fail("invalid_base64", "base64 text has non-zero padding bits at offset " +
                                              std::to_string(text.size() - padding - 1));
  }
  bytes.push_back(static_cast<char>(n >> 16));
  if (padding == 1) bytes.push_back(static_cast<char>((n >> 8) & 0xFF));
  return bytes;
}

}  // namespace backfilld::crypto
