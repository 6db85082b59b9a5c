#include "migrations/encrypt_fields.hpp"

#include <algorithm>
#include <utility>

#include "daemon/common/json.hpp"
#include "migrations/document_scope.hpp"

namespace backfilld::migrations {
namespace {

common::Unexpected<common::Error> invalid(const ContainerSpec& container, std::string message) {
  return common::fail("invalid_manifest",
                      "container " + container.name + ": " + std::move(message));
}

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

}  // namespace

common::Result<std::unique_ptr<Transform>> EncryptFields::create(const ContainerSpec& container,
                                                                 const crypto::Keyring* keyring,
                                                                 crypto::IvSource iv_source) {
  auto segments = split_path(container.partition_key_path);
  if (!segments) {
    return invalid(container, "partition key path \"" + container.partition_key_path +
                                  "\" must look like /field or /field/nested");
  }
  if (container.fields.empty()) return invalid(container, "fields must not be empty");
  if (container.context.empty()) return invalid(container, "context must not be empty");
  if (container.user_id_field.empty())
    return invalid(container, "the user id field must not be empty");
  for (std::size_t i = 0; i < container.fields.size(); ++i) {
    const std::string& field = container.fields[i];
    if (field.empty()) return invalid(container, "fields[" + std::to_string(i) + "] is empty");
    if (std::find(container.fields.begin(), container.fields.begin() + i, field) !=
        container.fields.begin() + i) {
      return invalid(container, "field \"" + field + "\" is listed twice");
    }
    if (auto why = why_plaintext(field, segments->front(), container.user_id_field); !why.empty()) {
      return invalid(container, "field \"" + field + "\" " + why + " and must stay plaintext");
    }
  }
  if (!iv_source) return invalid(container, "no IV source");
  return std::unique_ptr<Transform>(
      new EncryptFields(container, std::move(*segments), keyring, std::move(iv_source)));
}

EncryptFields::EncryptFields(const ContainerSpec& container,
                             std::vector<std::string> partition_key_segments,
                             const crypto::Keyring* keyring,
                             crypto::IvSource iv_source)
    : fields_(container.fields),
      partition_key_segments_(std::move(partition_key_segments)),
      context_(container.context),
      user_id_field_(container.user_id_field),
      skip_owners_(container.skip_owners),
      keyring_(keyring),
      iv_source_(std::move(iv_source)) {}

TransformResult EncryptFields::apply(rapidjson::Value& document,
                                     rapidjson::Document::AllocatorType& allocator,
                                     Mode mode) const {
  TransformResult result;
  result.fields.assign(fields_.size(), FieldOutcome::kUntouched);
  const auto classify = [&](Outcome outcome, std::string detail = {}) {
    result.outcome = outcome;
    result.detail = std::move(detail);
    return std::move(result);
  };

  if (mode == Mode::kLive && keyring_ == nullptr) {
    return classify(Outcome::kError, "a live encrypt-fields run needs a keyring and has none");
  }
  const rapidjson::Value* partition_key = find_path(document, partition_key_segments_);
  if (partition_key == nullptr || partition_key->IsNull()) {
    return classify(Outcome::kMissingPartitionKey);
  }
  const rapidjson::Value* owner = common::find_member(document, user_id_field_);
  if (owner == nullptr || !owner->IsString() || owner->GetStringLength() == 0) {
    return classify(Outcome::kOwnerMismatch);
  }
  const std::string_view owner_id(owner->GetString(), owner->GetStringLength());
  if (std::find(skip_owners_.begin(), skip_owners_.end(), owner_id) != skip_owners_.end()) {
    result.fields.assign(fields_.size(), FieldOutcome::kSkipped);
    return classify(Outcome::kUnchanged);
  }

  // A malformed envelope is never re-encrypted: the whole document waits for a person.
  std::string malformed;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const rapidjson::Value* value = common::find_member(document, fields_[i]);
    if (value == nullptr || !crypto::is_envelope(*value)) continue;
    auto envelope = crypto::parse_envelope(*value);
    if (envelope.ok()) continue;
    result.fields[i] = FieldOutcome::kError;
    if (!malformed.empty()) malformed += "; ";
    malformed += "field " + fields_[i] + ": " + envelope.error().message;
  }
  if (!malformed.empty()) return classify(Outcome::kError, "malformed envelope: " + malformed);

  // Every field is sealed before any is replaced, so a failure leaves the document as it was.
  std::vector<std::pair<rapidjson::Value*, rapidjson::Value>> sealed;
  bool rewritten = false;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    rapidjson::Value* value = find_mutable(document, fields_[i]);
    if (value == nullptr || value->IsNull() || crypto::is_envelope(*value)) {
      result.fields[i] = FieldOutcome::kSkipped;
      continue;
    }
    result.fields[i] = FieldOutcome::kRewritten;
    rewritten = true;
    if (mode == Mode::kDryRun) continue;
    if (sealed.empty()) sealed.reserve(fields_.size());
    rapidjson::Value envelope;
    auto done = crypto::seal_value(*keyring_, context_, owner_id, iv_source_(), *value, envelope,
                                   allocator);
    if (!done.ok()) {
      result.fields.assign(fields_.size(), FieldOutcome::kUntouched);
      result.fields[i] = FieldOutcome::kError;
      return classify(Outcome::kError, "field " + fields_[i] + ": " + done.error().message);
    }
    sealed.emplace_back(value, std::move(envelope));
  }
  for (auto& [value, envelope] : sealed) *value = envelope;  // RapidJSON assignment moves
  return classify(rewritten ? Outcome::kRewritten : Outcome::kUnchanged);
}

}  // namespace backfilld::migrations
