#include "daemon/cosmos/auth.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <ctime>

namespace backfilld::cosmos {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string encode_base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

}  // namespace

common::Result<MasterKey> MasterKey::from_base64(std::string_view key_base64) {
  // EVP_DecodeBlock ignores nothing and pads the output: strip the padding it reports.
  if (key_base64.empty() || key_base64.size() % 4 != 0) {
    return common::fail("invalid_key", "COSMOS_KEY is not base64 (length must be a multiple of 4)");
  }
  std::vector<unsigned char> bytes(key_base64.size() / 4 * 3);
  const int decoded =
      EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(key_base64.data()),
                      static_cast<int>(key_base64.size()));
  if (decoded < 0) return common::fail("invalid_key", "COSMOS_KEY is not valid base64");
  std::size_t size = static_cast<std::size_t>(decoded);
  if (key_base64.ends_with("==")) {
    size -= 2;
  } else if (key_base64.ends_with('=')) {
    size -= 1;
  }
  bytes.resize(size);
  if (bytes.empty()) return common::fail("invalid_key", "COSMOS_KEY decodes to no bytes");
  return MasterKey(std::move(bytes));
}

std::string MasterKey::signature(std::string_view verb,
                                 std::string_view resource_type,
                                 std::string_view resource_link,
                                 std::string_view date) const {
  std::string payload;
  payload.reserve(verb.size() + resource_type.size() + resource_link.size() + date.size() + 5);
  payload.append(lower(verb)).push_back('\n');
  payload.append(lower(resource_type)).push_back('\n');
  payload.append(resource_link).push_back('\n');
  payload.append(lower(date)).push_back('\n');
  payload.push_back('\n');

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  HMAC(EVP_sha256(), bytes_.data(), static_cast<int>(bytes_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest.data(),
       &digest_size);
  return encode_base64(digest.data(), digest_size);
}

std::string MasterKey::authorization(std::string_view verb,
                                     std::string_view resource_type,
                                     std::string_view resource_link,
                                     std::string_view date) const {
  return url_encode("type=master&ver=1.0&sig=" +
                    signature(verb, resource_type, resource_link, date));
}

std::string rfc1123_date(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::array<char, 40> text{};
  std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<std::size_t>(utc.tm_wday)], utc.tm_mday,
                kMonths[static_cast<std::size_t>(utc.tm_mon)], utc.tm_year + 1900, utc.tm_hour,
                utc.tm_min, utc.tm_sec);
  return text.data();
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

}  // namespace backfilld::cosmos
