#pragma once
/// A stand-in transform for engine tests, so they need no keys.
#include <string>
#include <vector>

#include "migrations/transform.hpp"

namespace backfilld::testing {

/// A stand-in transform over field "secret": a string becomes {"__encrypted": true, "was": n}
/// (its length), an object is left, "owner" must be a non-empty string, "ws" is the key.
class MarkSecret final : public migrations::Transform {
 public:
  const std::vector<std::string>& fields() const override { return fields_; }
  migrations::TransformResult apply(rapidjson::Value& document,
                                    rapidjson::Document::AllocatorType& allocator,
                                    migrations::Mode mode) const override {
    if (!document.HasMember("ws")) {
      return {
          migrations::Outcome::kMissingPartitionKey, {migrations::FieldOutcome::kUntouched}, {}};
    }
    if (!document.HasMember("owner")) {
      return {migrations::Outcome::kOwnerMismatch, {migrations::FieldOutcome::kUntouched}, {}};
    }
    auto it = document.FindMember("secret");
    if (it == document.MemberEnd() || it->value.IsNull() || it->value.IsObject()) {
      return {migrations::Outcome::kUnchanged, {migrations::FieldOutcome::kSkipped}, {}};
    }
    if (mode == migrations::Mode::kLive) {
      rapidjson::Value envelope(rapidjson::kObjectType);
      envelope.AddMember("__encrypted", true, allocator);
      envelope.AddMember("was", it->value.GetStringLength(), allocator);
      it->value = envelope;
    }
    return {migrations::Outcome::kRewritten, {migrations::FieldOutcome::kRewritten}, {}};
  }

 private:
  std::vector<std::string> fields_{"secret"};
};

}  // namespace backfilld::testing
