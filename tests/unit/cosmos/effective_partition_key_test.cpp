#include "daemon/cosmos/effective_partition_key.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "daemon/common/json.hpp"

namespace backfilld::cosmos {
namespace {

const PartitionKeyDefinition kHashV1{PartitionKeyDefinition::Kind::kHash, 1};
const PartitionKeyDefinition kHashV2{PartitionKeyDefinition::Kind::kHash, 2};
const PartitionKeyDefinition kMultiHash{PartitionKeyDefinition::Kind::kMultiHash, 2};

/// The EPK of the partition key header `header` (a JSON array) under `definition`.
std::string epk(const PartitionKeyDefinition& definition, const std::string& header) {
  auto result = effective_partition_key(definition, PartitionKey{header});
  REQUIRE_MESSAGE(result.ok(), header);
  return result.value();
}

std::string epk_of_number(const PartitionKeyDefinition& definition, double value) {
  const std::vector<PartitionKeyComponent> components{PartitionKeyComponent::from_number(value)};
  return effective_partition_key(definition, components);
}

std::string epk_of_string(const PartitionKeyDefinition& definition, std::string value) {
  const std::vector<PartitionKeyComponent> components{
      PartitionKeyComponent::from_string(std::move(value))};
  return effective_partition_key(definition, components);
}

// azure-cosmos-dotnet-v3 PartitionKeyInternalTest.TestManagedNativeCompatibility ("effective
// partition key produced by managed code and backend is the same"): prefixes of these strings.
const std::string kLatin =
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnop"
    "qrstuvwxyzabcdefghijklmnopqrstuvwxyz";
const std::string kNonLatin =
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяабвгдеёжзийклмнопрстуфхцчшщъыьэюяабвгдеёжзийклмнопрстуфхцчшщъ"
    "ыьэюяабвгдеёжзийклмнопрстуфхцчшщъыьэюя";
/// `text` `count` times.
std::string repeat(const std::string& text, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += text;
  return out;
}

const std::string kLatinV1Hex99 =
    "0862636465666768696A6B6C6D6E6F707172737475767778797A7B62636465666768696A6B6C6D6E6F7071727374"
    "75767778797A7B62636465666768696A6B6C6D6E6F707172737475767778797A7B62636465666768696A6B6C6D6E"
    "6F70717273747576";
const std::string kNonLatinV1Hex49 =
    "08D1B1D1B2D1B3D1B4D1B5D1B6D292D1B7D1B8D1B9D1BAD1BBD1BCD1BDD1BED1BFD1C0D281D282D283D284D285D2"
    "86D287D288D289D28AD28BD28CD28DD28ED28FD290D1B1D1B2D1B3D1B4D1B5D1B6D292D1B7D1B8D1B9D1BAD1BBD1"
    "BCD1BDD1BED1BF";

}  // namespace

TEST_CASE("hash V2 matches azure-sdk-for-js test/internal/unit/hashing/v2.spec.ts") {
  CHECK(epk(kHashV2, R"(["redmond"])") == "22E342F38A486A088463DFF7838A5963");
  CHECK(epk(kHashV2, "[\"" + std::string(110, 'a') + "\"]") == "0BA3E9CA8EE4C14538828D1612A4B652");
  CHECK(epk(kHashV2, R"([""])") == "32E9366E637A71B4E710384B2F4970A0");
  CHECK(epk(kHashV2, R"(["aa"])") == "05033626483AE80D00E44FBD35362B19");
  CHECK(epk(kHashV2, "[null]") == "378867E4430E67857ACE5C908374FE16");
  CHECK(epk(kHashV2, "[true]") == "0E711127C5B5A8E4726AC6DD306A3E59");
  CHECK(epk(kHashV2, "[false]") == "2FE1BE91E90A3439635E0E9E37361EF2");
  CHECK(epk(kHashV2, "[{}]") == "11622DAA78F835834610ABE56EFF5CB5");
  CHECK(epk(kHashV2, "[5]") == "19C08621B135968252FB34B4CF66F811");
  CHECK(epk(kHashV2, "[5.5]") == "0E2EE47829D1AF775EEFB6540FD1D0ED");
  CHECK(epk(kHashV2, "[12313.1221]") == "27E7ECA8F2EE3E53424DE8D5220631C6");
  CHECK(epk(kHashV2, "[123456789]") == "1F56D2538088EBA82CCF988F36E16760");
  CHECK(epk(kHashV2, R"(["redmond", 50, 5.5, true, false, null, "", 12313.1221])") ==
        "1A5E512F591E980E07A6D8AD5BD5AB2F");
}

TEST_CASE("hash V1 matches azure-sdk-for-js test/internal/unit/hashing/v1.spec.ts") {
  CHECK(epk(kHashV1, R"(["partitionKey"])") == "05C1E1B3D9CD2608716273756A756A706F4C667A00");
  CHECK(epk(kHashV1, R"(["redmond"])") == "05C1EFE313830C087366656E706F6500");
  CHECK(epk(kHashV1, "[\"" + std::string(110, 'a') + "\"]") ==
        "05C1EB5921F70608" + repeat("62", 100) + "00");
  CHECK(epk(kHashV1, R"([""])") == "05C1CF33970FF80800");
  CHECK(epk(kHashV1, R"(["aa"])") == "05C1C7B7270FE008626200");
  CHECK(epk(kHashV1, "[null]") == "05C1ED45D7475601");
  CHECK(epk(kHashV1, "[true]") == "05C1D7C5A903D803");
  CHECK(epk(kHashV1, "[false]") == "05C1DB857D857C02");
  CHECK(epk(kHashV1, "[{}]") == "05C1D529E345DC00");
  CHECK(epk(kHashV1, "[5]") == "05C1D9C1C5517C05C014");
  CHECK(epk(kHashV1, "[5.5]") == "05C1D7A771716C05C016");
  CHECK(epk(kHashV1, "[12313.1221]") == "05C1ED154D592E05C0C90723F50FC925D8");
  CHECK(epk(kHashV1, "[123456789]") == "05C1D9E1A5311C05C19DB7CD8B40");
}

TEST_CASE("hash V2 matches azure-cosmos-dotnet-v3 PartitionKeyInternalTest") {
  // TestPartitionKeyBinaryEncodingV2 (the Java SDK's PartitionKeyInternalTest has the same).
  CHECK(epk(kHashV2, "[5.0]") == "19C08621B135968252FB34B4CF66F811");
  CHECK(epk(kHashV2, "[5.12312419050912359123]") == "0EF2E2D82460884AF0F6440BE4F726A8");
  CHECK(epk(kHashV2, "[]").empty());
  CHECK(epk(kHashV2, R"([5.0, "redmond", true, null])") == "3032DECBE2AB1768D8E0AEDEA35881DF");
  CHECK(epk(kHashV2, "[\"" + std::string(145, 'a') + "\"]") == "36375D21568760E891C9CB7002D5E059");
}

TEST_CASE("hash V1 matches azure-cosmos-dotnet-v3 PartitionKeyInternalTest") {
  // TestHashEffectivePartitionKey and TestManagedNativeCompatibility: several paths hash
  // together; the number 2 keeps its final 0x00 byte.
  CHECK(epk(kHashV1, R"([2, true, false, null, {}, "Привет!"])") ==
        "05C1D19581B37C05C0000302010008D1A0D281D1B9D1B3D1B6D2832200");
  CHECK(epk(kHashV1, R"(["по-русски", null, true, false, {}, 5.5])") ==
        "05C1D39FA55F0408D1C0D1BF2ED281D284D282D282D1BBD1B9000103020005C016");
}

TEST_CASE("V1 truncates to 100 UTF-16 units and 101 UTF-8 bytes as the backend does") {
  // TestManagedNativeCompatibility, latin prefixes of 99..116 characters.
  CHECK(epk_of_string(kHashV1, kLatin.substr(0, 99)) == "05C19B2DC38FC0" + kLatinV1Hex99 + "00");
  const std::string v1_hundred = "05C1DD5D814964" + kLatinV1Hex99 + "7700";
  const char* v2[] = {"023D5F0B62EBEF22A43564F267193B4D", "357D83181DB32D35F58CDA3C9F2E0742",
                      "12B320F72959AB449FD8E090C6B23B88", "25FD21A31C69A8C8AD994F7FAC2B2B9F",
                      "1DC6FB1CF6E1228C506AA6C8735023C4", "308E1E7870956CE5D9BDAD01200E09BD",
                      "362E21ABDEA7179DBDF7BF549DD8303B", "1EBE932ECEFA4F53CE339D31B6BF53FD",
                      "3BFA3A6E9CBABA0EF756AEDEC66B1B3C", "2880BF78DE0CE2CD1B0120EDA22601C4",
                      "1F3577D1D9CA7FC56100AED11F4DC646", "205A9EB61F3B063E61C6ED655C9220E6",
                      "1152A43F1A852AFDDD4518C9CDD48616", "38E2EB2EF54012B5CA40CDA34F1C7736",
                      "19BCC416843B9085DBBC18E8C7C80D72", "03F1BB89FD8E9747B047281E80FA2E84",
                      "2BA0757B833F3922A3CBBB6DDA3803B4"};
  CHECK(epk_of_string(kHashV2, kLatin.substr(0, 99)) == "072D8FA3228DD2A6C0A7129C845700E6");
  for (std::size_t length = 100; length <= 116; ++length) {
    CAPTURE(length);
    CHECK(epk_of_string(kHashV1, kLatin.substr(0, length)) == v1_hundred);
    CHECK(epk_of_string(kHashV2, kLatin.substr(0, length)) == v2[length - 100]);
  }
  // Non-latin prefixes (2 UTF-8 bytes a character): past 50 characters the encoding keeps
  // 101 bytes and drops the terminator; the hash still covers 100 characters.
  const auto non_latin = [](std::size_t characters) { return kNonLatin.substr(0, 2 * characters); };
  CHECK(epk_of_string(kHashV1, non_latin(49)) == "05C1C1BD37FE" + kNonLatinV1Hex49 + "00");
  CHECK(epk_of_string(kHashV2, non_latin(49)) == "3742C1AF65AFA809282539F4BCDF2F6F");
  CHECK(epk_of_string(kHashV1, non_latin(50)) == "05C1B339EF4720" + kNonLatinV1Hex49 + "D1C000");
  CHECK(epk_of_string(kHashV2, non_latin(50)) == "399CF1F141E066E09CC7557EA7F0977A");
  CHECK(epk_of_string(kHashV1, non_latin(51)) == "05C1EB1F29DBFA" + kNonLatinV1Hex49 + "D1C0D2");
  CHECK(epk_of_string(kHashV2, non_latin(51)) == "2D63C2F5FDAC6EFE5660CD509A723A90");
  CHECK(epk_of_string(kHashV1, non_latin(99)) == "05C1E72F79C716" + kNonLatinV1Hex49 + "D1C0D2");
  CHECK(epk_of_string(kHashV2, non_latin(99)) == "1E9836D9BCB67FDB2B5C984BD40AFAF9");
  CHECK(epk_of_string(kHashV1, non_latin(100)) == "05C1E3653D9F3E" + kNonLatinV1Hex49 + "D1C0D2");
  CHECK(epk_of_string(kHashV2, non_latin(100)) == "16102F19448867537E51BB4377962AF9");
  CHECK(epk_of_string(kHashV1, non_latin(101)) == "05C1E3653D9F3E" + kNonLatinV1Hex49 + "D1C0D2");
  CHECK(epk_of_string(kHashV2, non_latin(101)) == "0B6D25D07748AB9CA0F523D4BAD146C8");
}

TEST_CASE("V1 cuts a surrogate pair at the 100th unit as .NET and JavaScript do (U+FFFD)") {
  // 99 ASCII characters and U+1F600: Substring(0, 100) keeps a lone high surrogate, which
  // UTF-8 encoding replaces with EF BF BD; the hash covers those bytes.
  const std::string cut = std::string(99, 'a') + "\xF0\x9F\x98\x80";
  const std::string replaced = std::string(99, 'a') + "\xEF\xBF\xBD";
  const std::string cut_epk = epk_of_string(kHashV1, cut);
  CHECK(cut_epk == epk_of_string(kHashV1, replaced));
  CHECK(cut_epk != epk_of_string(kHashV1, std::string(99, 'a')));
}

TEST_CASE("strings hash as the SDKs encode UTF-16: lone surrogates as U+FFFD, pairs whole") {
  // parse_json keeps a lone surrogate escape as its CESU-8 bytes; JavaScript's TextEncoder and
  // .NET's Encoding.UTF8 write U+FFFD for it, and one 4-byte character for a pair.
  auto parsed = common::parse_json(R"(["a\ud800b", "\udc00"])");
  REQUIRE(parsed.ok());
  for (const auto* definition : {&kHashV1, &kHashV2}) {
    CHECK(epk_of_string(*definition,
                        "a\xED\xA0\x80"
                        "b") == epk_of_string(*definition,
                                              "a\xEF\xBF\xBD"
                                              "b"));
    CHECK(epk_of_string(*definition, "\xED\xA0\xBD\xED\xB8\x80") ==
          epk_of_string(*definition, "\xF0\x9F\x98\x80"));
    CHECK(epk(*definition, R"(["a\ud800b"])") == epk_of_string(*definition,
                                                               "a\xEF\xBF\xBD"
                                                               "b"));
  }
  CHECK(epk(kHashV2, R"(["\ud83d\ude00"])") == epk_of_string(kHashV2, "\xF0\x9F\x98\x80"));
}

TEST_CASE("hash V2 of numbers matches azure-cosmos-dotnet-v3 EffectivePartitionKeyBaselineTest") {
  // EffectivePartitionKeyBaselineTest.Numbers.xml and .Singletons.xml (EffectivePartitionKeyV2).
  const auto v2 = [](double value) { return epk_of_number(kHashV2, value); };
  CHECK(v2(0.0) == "155B95BEDAC4B1E9EC1CDC9BB0DDDE58");
  CHECK(v2(-0.0) == "3D018BB1DF3DB27235766E81FD10406E");
  CHECK(v2(1) == "20CD98B339BA78A5D0CF6953B87070B0");
  CHECK(v2(-1) == "19938E7A936C1C5B9E3AE842BBC16839");
  CHECK(v2(std::numeric_limits<double>::denorm_min()) == "0E6CBA63A280927DE485DEF865800139");
  CHECK(v2(std::numeric_limits<double>::max()) == "31424D996457102634591FF245DBCC4D");
  CHECK(v2(std::numeric_limits<double>::lowest()) == "27050CC4910CFD9DACE1283D3801DF25");
  // double.NaN in .NET on x64 is the negative quiet NaN.
  CHECK(v2(std::bit_cast<double>(0xFFF8000000000000ULL)) == "1AA4222583D70ECAA0922D8CA8EDFCB1");
  CHECK(v2(-std::numeric_limits<double>::infinity()) == "1B63B3FB266DB3B6CD3BC79FE893CDE8");
  CHECK(v2(std::numeric_limits<double>::infinity()) == "3889F7F08A8CE2A5C9829BBB1944B4FF");
  CHECK(v2(9223372036854775807.0) == "2EDB959178DFCCA18983F89384D1629B");
  CHECK(v2(-9223372036854775808.0) == "23D5C6395512BDFEAFADAD15328AD2BB");
  CHECK(v2(9007199254740991.0) == "12C221C7032CED1F9E6693CE1428E6CF");
  CHECK(v2(9007199254740990.0) == "0FEA3467D94AA6E4628EF0B248C1FD9B");
  CHECK(v2(9007199254740992.0) == "15335910D01122E3D99DA5DE569B065D");
}

TEST_CASE("V1 and V2 match the Java SDK's vectors (as the Rust SDK's hashing tests copy them)") {
  const auto v2 = [](double value) { return epk_of_number(kHashV2, value); };
  const auto v1 = [](double value) { return epk_of_number(kHashV1, value); };
  CHECK(epk(kHashV2, R"(["partitionKey"])") == "013AEFCF77FA271571CF665A58C933F1");
  CHECK(epk(kHashV2, R"(["customer42"])") == "19819C94CE42A1654CCC8110539D9589");
  CHECK(epk_of_string(kHashV2, std::string(1024, 'a')) == "332BDF5512AE49615F32C7D98C2DB86C");
  CHECK(epk_of_string(kHashV1, std::string(1024, 'a')) ==
        "05C1EB5921F70608" + repeat("62", 100) + "00");
  CHECK(v2(-128) == "01DAEDABF913540367FE219B2AD06148");
  CHECK(v2(127) == "0C507ACAC853ECA7977BF4CEFB562A25");
  CHECK(v2(-2147483648.0) == "0B1660D5233C3171725B30D4A5F4CC1F");
  CHECK(v2(2147483647.0) == "2D9349D64712AEB5EB1406E2F0BE2725");
  CHECK(v1(-128) == "05C1D73349F54C053FA0");
  CHECK(v1(127) == "05C1DD539DDFCC05C05FE0");
  CHECK(v1(-9223372036854775808.0) == "05C1DB35F33D1C053C20");
  CHECK(v1(9223372036854775807.0) == "05C1B799AB2DD005C3E0");
  CHECK(v1(-2147483648.0) == "05C1DFBF252BCC053E20");
  CHECK(v1(2147483647.0) == "05C1E1F503DFB205C1DFFFFFFFFC");
  CHECK(v1(std::numeric_limits<double>::denorm_min()) == "05C1E5C91F4D3005800101010101010102");
  CHECK(v1(std::numeric_limits<double>::max()) == "05C1CBE367C53005FFEFFFFFFFFFFFFFFE");
}

TEST_CASE("MultiHash concatenates each component's V2 hash (Python SDK vectors via Rust's)") {
  CHECK(epk(kMultiHash, R"(["title_player_account!9E711EFBD3BBB492", "Title-B60C1"])") ==
        "2306FDF78C35ED4FD1C5835B075FC0B0248E1F58635558D12708326234F93A21");
  CHECK(epk(kMultiHash, R"(["title_player_account!9E711EFBD3BBB499"])") ==
        "378CCD42FC556DDDE688B05DC178BB92");
  CHECK(epk(kMultiHash, "[false, null]") ==
        "2FE1BE91E90A3439635E0E9E37361EF2378867E4430E67857ACE5C908374FE16");
  CHECK(epk(kMultiHash, "[1234, {}]") ==
        "266B73B33A7065810B7D2A2938F85E8011622DAA78F835834610ABE56EFF5CB5");
  // .NET PrefixPartitionKeyTestRunner's range bound for [Seattle, Redmond] ends in Redmond's hash.
  CHECK(epk(kMultiHash, R"(["redmond"])") == "22E342F38A486A088463DFF7838A5963");
}

TEST_CASE("PartitionKeyDefinition::from_json reads kind and version, an absent version is 1") {
  const auto definition = [](const char* json) {
    auto document = common::parse_json(json);
    REQUIRE(document.ok());
    return PartitionKeyDefinition::from_json(document.value());
  };
  CHECK(definition(R"({"paths": ["/a"], "kind": "Hash"})").value().version == 1);
  CHECK(definition(R"({"paths": ["/a"]})").value().kind == PartitionKeyDefinition::Kind::kHash);
  CHECK(definition(R"({"paths": ["/a"], "kind": "Hash", "version": 2})").value().version == 2);
  CHECK(definition(R"({"paths": ["/a", "/b"], "kind": "MultiHash", "version": 2})").value().kind ==
        PartitionKeyDefinition::Kind::kMultiHash);
  CHECK(definition(R"({"kind": "Range"})").error().code == "bad_partition_key_definition");
  CHECK(definition(R"({"kind": "Hash", "version": 3})").error().message ==
        "partitionKey.version must be 1 or 2");
  CHECK(definition("[]").error().code == "bad_partition_key_definition");
  // The version picks the hash: the same key differs between V1 and V2 containers.
  CHECK(effective_partition_key(definition(R"({"kind": "Hash"})").value(), PartitionKey{"[5]"})
            .value() == "05C1D9C1C5517C05C014");
}

TEST_CASE("partition key values the EPK cannot hash are errors, not guesses") {
  CHECK(effective_partition_key(kHashV2, PartitionKey{R"([["nested"]])"}).error().code ==
        "bad_partition_key");
  CHECK(effective_partition_key(kHashV2, PartitionKey{R"([{"a": 1}])"}).error().code ==
        "bad_partition_key");
  CHECK(effective_partition_key(kHashV2, PartitionKey{"\"redmond\""}).error().code ==
        "bad_partition_key");
  // What PartitionKey::of and none() write hashes like the SDKs' values.
  auto document = common::parse_json(R"("ws-\u00e9")");
  REQUIRE(document.ok());
  CHECK(effective_partition_key(kHashV2, PartitionKey::of(document.value())).value() ==
        epk_of_string(kHashV2, "ws-\xC3\xA9"));
  CHECK(effective_partition_key(kHashV2, PartitionKey::none()).value() ==
        "11622DAA78F835834610ABE56EFF5CB5");
}

TEST_CASE("find_range picks min_inclusive <= epk < max_exclusive") {
  const std::vector<PartitionKeyRange> ranges{
      {"2", "3F", "FF", {}}, {"0", "", "1F", {}}, {"1", "1F", "3F", {"9"}}};
  CHECK(find_range(ranges, "")->id == "0");
  CHECK(find_range(ranges, "05C1D9C1C5517C05C014")->id == "0");
  CHECK(find_range(ranges, "1EFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")->id == "0");
  CHECK(find_range(ranges, "1F")->id == "1");  // a bound belongs to the range it starts
  CHECK(find_range(ranges, "1F00000000000000000000000000000")->id == "1");
  CHECK(find_range(ranges, "3F")->id == "2");
  CHECK(find_range(ranges, "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")->id == "2");
  CHECK(find_range(ranges, "FF") == nullptr);  // the maximum is exclusive
  CHECK(find_range({}, "1F") == nullptr);
  // A hierarchical EPK (64 digits) against a range split inside the first component's hash.
  const std::vector<PartitionKeyRange> split{
      {"0", "", "07E4D14180A45153F00B44907886F85622E342F38A486A088463DFF7838A5963", {}},
      {"1", "07E4D14180A45153F00B44907886F85622E342F38A486A088463DFF7838A5963", "FF", {}}};
  CHECK(find_range(split, "07E4D14180A45153F00B44907886F856")->id == "0");
  CHECK(find_range(split, "07E4D14180A45153F00B44907886F85622E342F38A486A088463DFF7838A5963")->id ==
        "1");
}

}  // namespace backfilld::cosmos
