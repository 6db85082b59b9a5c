#include "daemon/cosmos/murmur_hash.hpp"

#include <bit>
#include <cstddef>

namespace backfilld::cosmos {
namespace {

// Blocks are read little-endian byte by byte, so the result does not depend on the host.
template <class Word>
Word load_little_endian(const unsigned char* bytes) {
  Word word = 0;
  for (std::size_t i = 0; i < sizeof(Word); ++i) word |= static_cast<Word>(bytes[i]) << (8 * i);
  return word;
}

std::uint32_t fmix32(std::uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bU;
  h ^= h >> 13;
  h *= 0xc2b2ae35U;
  h ^= h >> 16;
  return h;
}

std::uint64_t fmix64(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

std::uint32_t murmur3_x86_32(std::string_view bytes, std::uint32_t seed) {
  constexpr std::uint32_t c1 = 0xcc9e2d51U;
  constexpr std::uint32_t c2 = 0x1b873593U;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t blocks = bytes.size() / 4;
  std::uint32_t h1 = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k1 = load_little_endian<std::uint32_t>(data + 4 * i);
    k1 = std::rotl(k1 * c1, 15) * c2;
    h1 ^= k1;
    h1 = std::rotl(h1, 13) * 5 + 0xe6546b64U;
  }
  const unsigned char* tail = data + 4 * blocks;
  std::uint32_t k1 = 0;
  switch (bytes.size() & 3U) {
    case 3:
      k1 ^= static_cast<std::uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k1 ^= static_cast<std::uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k1 ^= tail[0];
      h1 ^= std::rotl(k1 * c1, 15) * c2;
      break;
    default:
      break;
  }
  h1 ^= static_cast<std::uint32_t>(bytes.size());
  return fmix32(h1);
}

std::array<std::uint8_t, 16> murmur3_x64_128(std::string_view bytes, std::uint32_t seed) {
  constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
  constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t blocks = bytes.size() / 16;
  std::uint64_t h1 = seed;
  std::uint64_t h2 = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint64_t k1 = load_little_endian<std::uint64_t>(data + 16 * i);
    std::uint64_t k2 = load_little_endian<std::uint64_t>(data + 16 * i + 8);
    h1 ^= std::rotl(k1 * c1, 31) * c2;
    h1 = (std::rotl(h1, 27) + h2) * 5 + 0x52dce729U;
    h2 ^= std::rotl(k2 * c2, 33) * c1;
    h2 = (std::rotl(h2, 31) + h1) * 5 + 0x38495ab5U;
  }
  const unsigned char* tail = data + 16 * blocks;
  const std::size_t rest = bytes.size() & 15U;
  std::uint64_t k1 = 0;
  std::uint64_t k2 = 0;
  for (std::size_t i = rest; i > 8; --i)
    k2 ^= static_cast<std::uint64_t>(tail[i - 1]) << (8 * (i - 9));
  if (rest > 8) h2 ^= std::rotl(k2 * c2, 33) * c1;
  for (std::size_t i = rest < 8 ? rest : 8; i > 0; --i) {
    k1 ^= static_cast<std::uint64_t>(tail[i - 1]) << (8 * (i - 1));
  }
  if (rest > 0) h1 ^= std::rotl(k1 * c1, 31) * c2;

  h1 ^= bytes.size();
  h2 ^= bytes.size();
  h1 += h2;
  h2 += h1;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 += h2;
  h2 += h1;

  std::array<std::uint8_t, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<std::uint8_t>(h1 >> (8 * i));
    out[8 + i] = static_cast<std::uint8_t>(h2 >> (8 * i));
  }
  return out;
}

}  // namespace backfilld::cosmos
