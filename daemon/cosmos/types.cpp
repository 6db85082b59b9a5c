#include "daemon/cosmos/types.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace backfilld::cosmos {

PartitionKey PartitionKey::of(const rapidjson::Value& value) {
  // Header values must be ASCII: non-ASCII characters travel as \uXXXX escapes, as the SDKs do.
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>> writer(buffer);
  writer.StartArray();
  value.Accept(writer);
  writer.EndArray();
  return PartitionKey{std::string(buffer.GetString(), buffer.GetSize())};
}

}  // namespace backfilld::cosmos
