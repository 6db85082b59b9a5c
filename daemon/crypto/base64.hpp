#pragma once
/// Base64 with the standard alphabet and '=' padding (RFC 4648 section 4), as Node's Buffer
/// writes it. Decoding is strict, so every byte string has exactly one accepted text.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "daemon/common/result.hpp"

namespace backfilld::crypto {

/// Number of characters of the base64 text of `size` bytes.
constexpr std::size_t base64_encoded_size(std::size_t size) { return (size + 2) / 3 * 4; }

/// Writes the base64 text of `bytes` to `out`, which has room for base64_encoded_size() chars.
void base64_encode_to(std::span<const unsigned char> bytes, char* out);

/// The base64 text of `bytes`.
std::string base64_encode(std::span<const unsigned char> bytes);

/// The base64 text of the bytes of `bytes`.
std::string base64_encode(std::string_view bytes);

/// Decodes `text` strictly: length a multiple of 4, alphabet characters only, '=' only as the
/// last one or two characters, unused bits zero. Errors (code "invalid_base64") give an offset
/// or a length, never the text, which may be key material.
common::Result<std::string> base64_decode(std::string_view text);

}  // namespace backfilld::crypto
