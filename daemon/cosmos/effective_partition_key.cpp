#include "daemon/cosmos/effective_partition_key.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>

#include "daemon/common/json.hpp"
#include "daemon/cosmos/murmur_hash.hpp"

namespace backfilld::cosmos {
namespace {

// Type markers of the SDKs' binary encoding (PartitionKeyComponentType).
constexpr char kUndefinedMarker = 0x00;
constexpr char kNullMarker = 0x01;
constexpr char kFalseMarker = 0x02;
constexpr char kTrueMarker = 0x03;
constexpr char kNumberMarker = 0x05;
constexpr char kStringMarker = 0x08;
constexpr char kStringEndV2 = static_cast<char>(0xFF);
// Hash V1 hashes and encodes at most 100 UTF-16 code units of a string and encodes at most
// 100 of their UTF-8 bytes in full (StringPartitionKeyComponent.MaxStringChars/BytesToAppend).
constexpr std::size_t kMaxStringUnitsV1 = 100;
constexpr std::size_t kMaxStringBytesV1 = 100;

char marker_of(PartitionKeyComponent::Kind kind) {
  switch (kind) {
    case PartitionKeyComponent::Kind::kNull:
      return kNullMarker;
    case PartitionKeyComponent::Kind::kFalse:
      return kFalseMarker;
    case PartitionKeyComponent::Kind::kTrue:
      return kTrueMarker;
    case PartitionKeyComponent::Kind::kNumber:
      return kNumberMarker;
    case PartitionKeyComponent::Kind::kString:
      return kStringMarker;
    case PartitionKeyComponent::Kind::kUndefined:
      break;
  }
  return kUndefinedMarker;
}

void append_double_little_endian(double value, std::string& out) {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
}

void append_hex(const unsigned char* bytes, std::size_t size, std::string& out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0x0F]);
  }
}

// The UTF-8 bytes the SDKs hash for a string: they encode a UTF-16 string, so a surrogate pair
// is one 4-byte character and a lone surrogate U+FFFD. parse_json keeps a lone surrogate escape
// as its CESU-8 bytes (ED A0..BF xx); `max_units` cuts after that many UTF-16 code units, as
// .NET's Substring(0, 100) does for hash V1 (a pair cut in half leaves a lone high surrogate).
std::string sdk_utf8(std::string_view text, std::size_t max_units) {
  std::vector<std::uint16_t> units;
  for (std::size_t i = 0; i < text.size() && units.size() < max_units;) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if ((lead >= 0x80 && lead < 0xC0) || i + length > text.size()) {
      units.push_back(0xFFFD);  // not UTF-8; TextDecoder reads U+FFFD too
      ++i;
      continue;
    }
    std::uint32_t code_point = length == 1 ? lead : lead & (0xFFU >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3FU);
    }
    i += length;
    if (code_point >= 0x10000) {
      units.push_back(static_cast<std::uint16_t>(0xD800 + ((code_point - 0x10000) >> 10)));
      units.push_back(static_cast<std::uint16_t>(0xDC00 + ((code_point - 0x10000) & 0x3FF)));
    } else {
      units.push_back(static_cast<std::uint16_t>(code_point));
    }
  }
  if (units.size() > max_units) units.resize(max_units);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < units.size(); ++i) {
    std::uint32_t code_point = units[i];
    const bool high = code_point >= 0xD800 && code_point < 0xDC00;
    if (high && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] < 0xE000) {
      code_point = 0x10000 + ((code_point - 0xD800) << 10) + (units[++i] - 0xDC00);
    } else if (code_point >= 0xD800 && code_point < 0xE000) {
      code_point = 0xFFFD;
    }
    if (code_point < 0x80) {
      out.push_back(static_cast<char>(code_point));
    } else if (code_point < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else if (code_point < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
    }
  }
  return out;
}

// The bytes hash V2 hashes: marker, then the value (a string whole, closed by 0xFF).
void append_for_hashing_v2(const PartitionKeyComponent& component, std::string& out) {
  out.push_back(marker_of(component.kind));
  if (component.kind == PartitionKeyComponent::Kind::kNumber) {
    append_double_little_endian(component.number, out);
  } else if (component.kind == PartitionKeyComponent::Kind::kString) {
    out += sdk_utf8(component.string, std::numeric_limits<std::size_t>::max());
    out.push_back(kStringEndV2);
  }
}

// The bytes hash V1 hashes: as V2, but strings already cut (sdk_utf8) and closed by 0x00.
void append_for_hashing_v1(const PartitionKeyComponent& component, std::string& out) {
  out.push_back(marker_of(component.kind));
  if (component.kind == PartitionKeyComponent::Kind::kNumber) {
    append_double_little_endian(component.number, out);
  } else if (component.kind == PartitionKeyComponent::Kind::kString) {
    out += component.string;
    out.push_back(kUndefinedMarker);
  }
}

// A number in the order-preserving binary encoding (NumberPartitionKeyComponent): the double's
// bits made to sort as unsigned, first byte whole, then 7 bits a byte with a low 1 bit, the
// last byte's low bit 0.
void append_number_binary(double value, std::string& out) {
  const auto raw = std::bit_cast<std::uint64_t>(value);
  constexpr std::uint64_t kSign = 0x8000000000000000ULL;
  std::uint64_t payload = raw < kSign ? raw ^ kSign : ~raw + 1;
  out.push_back(kNumberMarker);
  out.push_back(static_cast<char>(payload >> 56));
  payload <<= 8;
  std::uint8_t byte_to_write = 0;
  bool first = true;
  do {
    if (!first) out.push_back(static_cast<char>(byte_to_write));
    first = false;
    byte_to_write = static_cast<std::uint8_t>((payload >> 56) | 0x01);
    payload <<= 7;
  } while (payload != 0);
  out.push_back(static_cast<char>(byte_to_write & 0xFE));
}

// A (truncated) component in the binary encoding: string bytes shifted up by one, closed by
// 0x00 when they fit in 100 bytes, else cut after 101 bytes without a terminator.
void append_binary(const PartitionKeyComponent& component, std::string& out) {
  if (component.kind == PartitionKeyComponent::Kind::kNumber) {
    append_number_binary(component.number, out);
    return;
  }
  out.push_back(marker_of(component.kind));
  if (component.kind != PartitionKeyComponent::Kind::kString) return;
  const std::string& bytes = component.string;
  const bool short_string = bytes.size() <= kMaxStringBytesV1;
  const std::size_t count = short_string ? bytes.size() : kMaxStringBytesV1 + 1;
  for (std::size_t i = 0; i < count; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out.push_back(static_cast<char>(byte < 0xFF ? byte + 1 : byte));
  }
  if (short_string) out.push_back(kUndefinedMarker);
}

std::string hash_v2(std::string_view bytes) {
  auto hash = murmur3_x64_128(bytes);
  // Big-endian order of the 128-bit value (h2 high, h1 low), as the SDKs print a UInt128.
  std::reverse(hash.begin(), hash.end());
  // The top two bits cleared keep every hash below the maximum EPK "FF" (and one bit spare).
  hash[0] &= 0x3F;
  std::string hex;
  append_hex(hash.data(), hash.size(), hex);
  return hex;
}

}  // namespace

common::Result<PartitionKeyComponent> PartitionKeyComponent::of(const rapidjson::Value& value) {
  if (value.IsString()) return from_string(std::string(value.GetString(), value.GetStringLength()));
  if (value.IsNumber()) return from_number(value.GetDouble());
  if (value.IsBool()) return from_bool(value.GetBool());
  if (value.IsNull()) return null();
  if (value.IsObject() && value.MemberCount() == 0) return undefined();
  return common::fail("bad_partition_key",
                      "a partition key value must be a string, number, bool, null or {}");
}

common::Result<PartitionKeyDefinition> PartitionKeyDefinition::from_json(
    const rapidjson::Value& partition_key) {
  if (!partition_key.IsObject()) {
    return common::fail("bad_partition_key_definition", "partitionKey must be an object");
  }
  PartitionKeyDefinition definition;
  if (const auto* kind = common::find_member(partition_key, "kind"); kind != nullptr) {
    const std::string_view name =
        kind->IsString() ? std::string_view(kind->GetString(), kind->GetStringLength()) : "";
    if (name == "MultiHash") {
      definition.kind = Kind::kMultiHash;
    } else if (name != "Hash") {
      return common::fail("bad_partition_key_definition",
                          "partitionKey.kind must be \"Hash\" or \"MultiHash\"");
    }
  }
  if (const auto* version = common::find_member(partition_key, "version"); version != nullptr) {
    if (!version->IsInt() || (version->GetInt() != 1 && version->GetInt() != 2)) {
      return common::fail("bad_partition_key_definition", "partitionKey.version must be 1 or 2");
    }
    definition.version = version->GetInt();
  }
  return definition;
}

common::Result<std::vector<PartitionKeyComponent>> partition_key_components(
    const PartitionKey& key) {
  auto document = common::parse_json(key.header);
  if (!document || !document.value().IsArray()) {
    return common::fail("bad_partition_key", "a partition key header must be a JSON array");
  }
  std::vector<PartitionKeyComponent> components;
  for (const auto& element : document.value().GetArray()) {
    auto component = PartitionKeyComponent::of(element);
    if (!component) return common::Unexpected{component.error()};
    components.push_back(std::move(component.value()));
  }
  return components;
}

std::string effective_partition_key_v1(std::span<const PartitionKeyComponent> components) {
  if (components.empty()) return "";
  std::vector<PartitionKeyComponent> truncated(components.begin(), components.end());
  std::string for_hashing;
  for (auto& component : truncated) {
    if (component.kind == PartitionKeyComponent::Kind::kString) {
      component.string = sdk_utf8(component.string, kMaxStringUnitsV1);
    }
    append_for_hashing_v1(component, for_hashing);
  }
  std::string binary;
  append_number_binary(static_cast<double>(murmur3_x86_32(for_hashing)), binary);
  for (const auto& component : truncated) append_binary(component, binary);
  std::string hex;
  append_hex(reinterpret_cast<const unsigned char*>(binary.data()), binary.size(), hex);
  return hex;
}

std::string effective_partition_key_v2(std::span<const PartitionKeyComponent> components) {
  if (components.empty()) return "";
  std::string for_hashing;
  for (const auto& component : components) append_for_hashing_v2(component, for_hashing);
  return hash_v2(for_hashing);
}

std::string effective_partition_key_multi_hash(std::span<const PartitionKeyComponent> components) {
  std::string epk;
  for (const auto& component : components) {
    std::string for_hashing;
    append_for_hashing_v2(component, for_hashing);
    epk += hash_v2(for_hashing);
  }
  return epk;
}

std::string effective_partition_key(const PartitionKeyDefinition& definition,
                                    std::span<const PartitionKeyComponent> components) {
  if (definition.kind == PartitionKeyDefinition::Kind::kMultiHash) {
    return effective_partition_key_multi_hash(components);
  }
  return definition.version == 2 ? effective_partition_key_v2(components)
                                 : effective_partition_key_v1(components);
}

common::Result<std::string> effective_partition_key(const PartitionKeyDefinition& definition,
                                                    const PartitionKey& key) {
  auto components = partition_key_components(key);
  if (!components) return common::Unexpected{components.error()};
  return effective_partition_key(definition, components.value());
}

const PartitionKeyRange* find_range(std::span<const PartitionKeyRange> ranges,
                                    std::string_view epk) {
  for (const auto& range : ranges) {
    // "FF" is above every EPK: hashes start below 0x40 and V1 encodings with 0x05.
    if (range.min_inclusive <= epk && epk < range.max_exclusive) return &range;
  }
  return nullptr;
}

}  // namespace backfilld::cosmos
