#include "daemon/common/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/writer.h>

namespace backfilld::common {
namespace {

/// A RapidJSON output stream that appends to a std::string.
class StringSink {
 public:
  using Ch = char;
  explicit StringSink(std::string& out) : out_(out) {}
  void Put(char c) { out_.push_back(c); }
  void Flush() {}

 private:
  std::string& out_;
};

}  // namespace

Result<rapidjson::Document> parse_json(std::string_view text) {
  rapidjson::Document document;
  document.Parse<kJsonParseFlags>(text.data(), text.size());
  if (document.HasParseError()) {
    return fail("invalid_json", std::string("invalid JSON at offset ") +
                                    std::to_string(document.GetErrorOffset()) + ": " +
                                    rapidjson::GetParseError_En(document.GetParseError()));
  }
  return document;
}

void append_json(const rapidjson::Value& value, std::string& out) {
  StringSink sink(out);
  rapidjson::Writer<StringSink> writer(sink);
  value.Accept(writer);
}

std::string to_json(const rapidjson::Value& value) {
  std::string out;
  append_json(value, out);
  return out;
}

const rapidjson::Value* find_member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> string_member(const rapidjson::Value& object,
                                              std::string_view name) {
  const rapidjson::Value* member = find_member(object, name);
  if (member == nullptr || !member->IsString()) return std::nullopt;
  return std::string_view(member->GetString(), member->GetStringLength());
}

}  // namespace backfilld::common
