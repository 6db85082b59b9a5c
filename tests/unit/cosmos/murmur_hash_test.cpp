#include "daemon/cosmos/murmur_hash.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace backfilld::cosmos {
namespace {

using namespace std::string_literals;

std::string hex_of(std::array<std::uint8_t, 16> bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string hex;
  for (const auto byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0F]);
  }
  return hex;
}

// The .NET SDK's baselines print the 128-bit value big-endian: the output bytes reversed.
std::string reversed_hex_of(std::array<std::uint8_t, 16> bytes) {
  std::reverse(bytes.begin(), bytes.end());
  return hex_of(bytes);
}

}  // namespace

TEST_CASE("murmur3_x86_32 matches Ian Boyd's published vectors (mmh3's tests)") {
  // https://stackoverflow.com/a/31929528, as hajimes/mmh3 tests them.
  CHECK(murmur3_x86_32("", 0) == 0U);
  CHECK(murmur3_x86_32("", 1) == 0x514E28B7U);
  CHECK(murmur3_x86_32("", 0xFFFFFFFFU) == 0x81F16F39U);
  CHECK(murmur3_x86_32("\x21\x43\x65\x87", 0) == 0xF55B516BU);
  CHECK(murmur3_x86_32("\x21\x43\x65\x87", 0x5082EDEEU) == 0x2362F9DEU);
  CHECK(murmur3_x86_32("\x21\x43\x65", 0) == 0x7E4A8634U);
  CHECK(murmur3_x86_32("\x21\x43", 0) == 0xA0F7B07AU);
  CHECK(murmur3_x86_32("\x21", 0) == 0x72661CF4U);
  CHECK(murmur3_x86_32("\xff\xff\xff\xff", 0) == 0x76293B50U);
  CHECK(murmur3_x86_32("\0\0\0\0"s, 0) == 0x2362F9DEU);
  CHECK(murmur3_x86_32("\0\0\0"s, 0) == 0x85F0B427U);
  CHECK(murmur3_x86_32("\0\0"s, 0) == 0x30F4C306U);
  CHECK(murmur3_x86_32("\0"s, 0) == 0x514E28B7U);
  CHECK(murmur3_x86_32("aaaa", 0x9747B28CU) == 0x5A97808AU);
  CHECK(murmur3_x86_32("aaa", 0x9747B28CU) == 0x283E0130U);
  CHECK(murmur3_x86_32("aa", 0x9747B28CU) == 0x5D211726U);
  CHECK(murmur3_x86_32("a", 0x9747B28CU) == 0x7FA09EA6U);
  CHECK(murmur3_x86_32("abcd", 0x9747B28CU) == 0xF0478627U);
  CHECK(murmur3_x86_32("abc", 0x9747B28CU) == 0xC84A62DDU);
  CHECK(murmur3_x86_32("ab", 0x9747B28CU) == 0x74875592U);
  CHECK(murmur3_x86_32("Hello, world!", 0x9747B28CU) == 0x24884CBAU);
  CHECK(murmur3_x86_32("\u03c0\u03c0\u03c0\u03c0\u03c0\u03c0\u03c0\u03c0", 0x9747B28CU) ==
        0xD58063C1U);
  CHECK(murmur3_x86_32(std::string(256, 'a'), 0x9747B28CU) == 0x37405BDCU);
  CHECK(murmur3_x86_32("abc", 0) == 0xB3DD93FAU);
  CHECK(murmur3_x86_32("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0) ==
        0xEE925B90U);
  CHECK(murmur3_x86_32("The quick brown fox jumps over the lazy dog", 0x9747B28CU) == 0x2FA826CDU);
  CHECK(murmur3_x86_32("foo") == 4138058784U);
}

TEST_CASE("murmur3_x86_32 matches the .NET SDK's PartitionKeyHash V1 baselines") {
  // azure-cosmos-dotnet-v3 PartitionKeyHashBaselineTest.{Singletons,Strings}.xml: the type
  // marker, then (strings) up to 100 UTF-16 units of UTF-8, no terminator.
  CHECK(murmur3_x86_32("\x00"s) == 0x514E28B7U);  // undefined
  CHECK(murmur3_x86_32("\x01") == 0xE45AD1ABU);   // null
  CHECK(murmur3_x86_32("\x03") == 0x5E2A8076U);   // true
  CHECK(murmur3_x86_32("\x02") == 0x6C27D09FU);   // false
  CHECK(murmur3_x86_32("\x08") == 0x2036BCC7U);   // ""
  CHECK(murmur3_x86_32("\x08"s + "asdf") == 0xFA36E790U);
  CHECK(murmur3_x86_32("\x08"s + std::string(99, 'a')) == 0xA36F6BFEU);
  CHECK(murmur3_x86_32("\x08"s + std::string(100, 'a')) == 0x0D64E325U);
}

TEST_CASE("murmur3_x64_128 matches mmh3's vectors, with and without a seed") {
  // hajimes/mmh3 tests: hash_bytes("foo"); hash128("foo", 42) = h2 << 64 | h1.
  CHECK(hex_of(murmur3_x64_128("foo")) == "6145F501578671E2877DBA2BE487AF7E");
  CHECK(hex_of(murmur3_x64_128("foo", 42)) == "F2537063519D56F4A99AB0EED8B579A2");
}

TEST_CASE("murmur3_x64_128 matches the .NET SDK's PartitionKeyHash V2 baselines") {
  // azure-cosmos-dotnet-v3 PartitionKeyHashBaselineTest.{Singletons,Strings}.xml (strings there
  // carry no 0xFF terminator); covers inputs of 1 to 2049 bytes, every tail length class.
  CHECK(reversed_hex_of(murmur3_x64_128("\x00"s)) == "51622DAA78F835834610ABE56EFF5CB5");
  CHECK(reversed_hex_of(murmur3_x64_128("\x01")) == "778867E4430E67857ACE5C908374FE16");
  CHECK(reversed_hex_of(murmur3_x64_128("\x03")) == "4E711127C5B5A8E4726AC6DD306A3E59");
  CHECK(reversed_hex_of(murmur3_x64_128("\x02")) == "EFE1BE91E90A3439635E0E9E37361EF2");
  CHECK(reversed_hex_of(murmur3_x64_128("\x08")) == "6A63D2CF33E52BDBDFA3A1B71AF6E07E");
  CHECK(reversed_hex_of(murmur3_x64_128("\x08"s + "asdf")) == "498D89FE394B068D05EE6EB149D83908");
  CHECK(reversed_hex_of(murmur3_x64_128("\x08"s + std::string(99, 'a'))) ==
        "83A559265D272A0B0897D5DAB8497A67");
  CHECK(reversed_hex_of(murmur3_x64_128("\x08"s + std::string(100, 'a'))) ==
        "A9288CFBBD2936CE26ED98C272505B4E");
  CHECK(reversed_hex_of(murmur3_x64_128("\x08"s + std::string(101, 'a'))) ==
        "4346A8E3F50BE781D8E072651D398EAE");
  CHECK(reversed_hex_of(murmur3_x64_128("\x08"s + std::string(2048, 'a'))) ==
        "CECAB75F2B220F6142080AFA1CFB6CD6");
}

}  // namespace backfilld::cosmos
