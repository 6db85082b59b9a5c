#pragma once
/// MurmurHash3 (Austin Appleby's public-domain reference), the two variants Cosmos DB hashes
/// partition keys with: x86_32 (hash V1) and x64_128 (hash V2).
#include <array>
#include <cstdint>
#include <string_view>

namespace backfilld::cosmos {

/// MurmurHash3_x86_32 of `bytes`.
std::uint32_t murmur3_x86_32(std::string_view bytes, std::uint32_t seed = 0);

/// MurmurHash3_x64_128 of `bytes`: the reference's 16 output bytes, h1 then h2, each little-endian.
std::array<std::uint8_t, 16> murmur3_x64_128(std::string_view bytes, std::uint32_t seed = 0);

}  // namespace backfilld::cosmos
