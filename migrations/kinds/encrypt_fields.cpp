#include "migrations/kinds/encrypt_fields.hpp"

#include <algorithm>
#include <utility>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

/// Why `field` must stay plaintext (DESIGN: ids, partition key, owner, timestamps, system
/// properties), or empty when it may be encrypted.
std::string why_plaintext(std::string_view field,
                          std::string_view partition_key_root,
                          std::string_view user_id_field) {
  if (field == partition_key_root) return "holds the partition key";
  if (field == user_id_field) return "is the owner field";
  if (field == "id" || field == "productId") return "is used to find and filter documents";
  if (field == "createdAt" || field == "updatedAt") return "is a timestamp";
  if (field.starts_with('_')) return "is a Cosmos system property or the envelope marker";
  return {};
}

/// The first problem of `container` beyond its scope (partition key path, owner field), or empty.
std::string first_problem(const ContainerSpec& container,
                          const EnvelopeFields& settings,
                          bool has_iv_source) {
  if (settings.fields.empty()) return "fields must not be empty";
  if (settings.context.empty()) return "context must not be empty";
  const auto segments = split_path(container.partition_key_path);
  const std::string_view partition_key_root = segments ? std::string_view(segments->front()) : "";
  for (std::size_t i = 0; i < settings.fields.size(); ++i) {
    const std::string& field = settings.fields[i];
    if (field.empty()) return "fields[" + std::to_string(i) + "] is empty";
    if (std::find(settings.fields.begin(), settings.fields.begin() + i, field) !=
        settings.fields.begin() + i) {
      return "field \"" + field + "\" is listed twice";
    }
    if (auto why = why_plaintext(field, partition_key_root, settings.user_id_field); !why.empty()) {
      return "field \"" + field + "\" " + why + " and must stay plaintext";
    }
  }
  if (!has_iv_source) return "no IV source";
  return {};
}

class EncryptFieldsKind final : public EnvelopeKind {
 public:
  EncryptFieldsKind()
      : EnvelopeKind(
            {.name = "encrypt-fields", .rewritten_name = "encrypted", .needs_keys = true}) {}

 private:
  common::Result<std::unique_ptr<Transform>> make(const TransformInputs& inputs,
                                                  const EnvelopeFields& settings) const override {
    return EncryptFields::create(inputs.container, settings, inputs.keyring, inputs.iv_source);
  }
};

}  // namespace

const Kind& encrypt_fields_kind() {
  static const EncryptFieldsKind kKind;
  return kKind;
}

common::Result<std::unique_ptr<Transform>> EncryptFields::create(const ContainerSpec& container,
                                                                 const EnvelopeFields& settings,
                                                                 const crypto::Keyring* keyring,
                                                                 crypto::IvSource iv_source) {
  const OwnerRule owner = settings.owner();
  auto scope =
      checked_scope(container, &owner, first_problem(container, settings, bool(iv_source)));
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(
      new EncryptFields(std::move(*scope), settings.fields, settings.context, keyring,
                        std::move(iv_source), encrypt_fields_kind().name()));
}

TransformResult EncryptFields::apply_in_scope(const InScope& in, TransformResult result) const {
  // A malformed envelope is never re-encrypted: the whole document waits for a person.
  std::string malformed;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const rapidjson::Value* value = common::find_member(in.document, fields_[i]);
    if (value == nullptr || !crypto::is_envelope(*value)) continue;
    auto envelope = crypto::parse_envelope(*value);
    if (envelope.ok()) continue;
    result.fields[i] = FieldOutcome::kError;
    if (!malformed.empty()) malformed += "; ";
    malformed += "field " + fields_[i] + ": " + envelope.error().message;
  }
  if (!malformed.empty()) {
    result.outcome = Outcome::kError;
    result.detail = "malformed envelope: " + malformed;
    return result;
  }

  // Every field is sealed before any is replaced, so a failure leaves the document as it was.
  std::vector<std::pair<rapidjson::Value*, rapidjson::Value>> sealed;
  bool rewritten = false;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    rapidjson::Value* value = find_mutable(in.document, fields_[i]);
    if (value == nullptr || value->IsNull() || crypto::is_envelope(*value)) {
      result.fields[i] = FieldOutcome::kSkipped;
      continue;
    }
    result.fields[i] = FieldOutcome::kRewritten;
    rewritten = true;
    if (in.mode == Mode::kDryRun) continue;
    if (sealed.empty()) sealed.reserve(fields_.size());
    rapidjson::Value envelope;
    auto done = crypto::seal_value(*keyring_, context_, in.owner, iv_source_(), *value, envelope,
                                   in.allocator);
    if (!done.ok()) {
      result.fields.assign(fields_.size(), FieldOutcome::kUntouched);
      result.fields[i] = FieldOutcome::kError;
      result.outcome = Outcome::kError;
      result.detail = "field " + fields_[i] + ": " + done.error().message;
      return result;
    }
    sealed.emplace_back(value, std::move(envelope));
  }
  for (auto& [value, envelope] : sealed) *value = envelope;  // RapidJSON assignment moves
  result.outcome = rewritten ? Outcome::kRewritten : Outcome::kUnchanged;
  return result;
}

}  // namespace backfilld::migrations
