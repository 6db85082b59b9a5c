#include "migrations/kinds/rekey.hpp"

#include <openssl/crypto.h>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

/// Wipes a decrypted value when it goes out of scope.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

class RekeyKind final : public EnvelopeKind {
 public:
  RekeyKind()
      : EnvelopeKind({.name = "rekey",
                      .rewritten_name = "rekeyed",
                      .left_name = "plaintext",
                      .needs_keys = true}) {}

 private:
  common::Result<std::unique_ptr<Transform>> make(const TransformInputs& inputs,
                                                  const EnvelopeFields& settings) const override {
    return Rekey::create(inputs.container, settings, inputs.keyring, inputs.iv_source);
  }
};

}  // namespace

const Kind& rekey_kind() {
  static const RekeyKind kKind;
  return kKind;
}

common::Result<std::unique_ptr<Transform>> Rekey::create(const ContainerSpec& container,
                                                         const EnvelopeFields& settings,
                                                         const crypto::Keyring* keyring,
                                                         crypto::IvSource iv_source) {
  const bool complete = !settings.fields.empty() && !settings.context.empty() && iv_source;
  const OwnerRule owner = settings.owner();
  auto scope = checked_scope(container, &owner, complete ? "" : "needs fields and a context");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(new Rekey(std::move(*scope), settings.fields, settings.context,
                                              keyring, std::move(iv_source), rekey_kind().name()));
}

TransformResult Rekey::apply_in_scope(const InScope& in, TransformResult result) const {
  const std::string aad = crypto::make_aad(context_, in.owner);
  // Every field is resealed before any is replaced, so a failure leaves the document as it was.
  std::vector<std::pair<rapidjson::Value*, rapidjson::Value>> resealed;
  std::string problems;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    rapidjson::Value* value = find_mutable(in.document, fields_[i]);
    if (is_missing(value)) {
      result.fields[i] = FieldOutcome::kSkipped;
      continue;
    }
    if (!crypto::is_envelope(*value)) {
      result.fields[i] = FieldOutcome::kLeft;  // plaintext: encrypt-fields' business
      continue;
    }
    auto envelope = crypto::parse_envelope(*value);
    if (envelope && keyring_ != nullptr && envelope->kid == keyring_->primary_kid()) {
      result.fields[i] = FieldOutcome::kSkipped;
      continue;
    }
    if (envelope && keyring_ == nullptr) {
      result.fields[i] = FieldOutcome::kRewritten;  // dry run without keys: by kid only
      continue;
    }
    common::Result<std::string> opened =
        envelope ? crypto::open(*keyring_, *envelope, aad)
                 : common::Result<std::string>(common::Unexpected{envelope.error()});
    if (!opened) {
      result.fields[i] = FieldOutcome::kError;
      if (!problems.empty()) problems += "; ";
      problems += "field " + fields_[i] + ": " + opened.error().message;
      continue;
    }
    Wiped plaintext{std::move(*opened)};
    result.fields[i] = FieldOutcome::kRewritten;
    if (in.mode == Mode::kDryRun) continue;
    auto sealed = crypto::seal(*keyring_, plaintext.text, aad, iv_source_());
    if (!sealed) {
      result.fields[i] = FieldOutcome::kError;
      if (!problems.empty()) problems += "; ";
      problems += "field " + fields_[i] + ": " + sealed.error().message;
      continue;
    }
    rapidjson::Value out;
    crypto::write_envelope(*sealed, out, in.allocator);
    resealed.emplace_back(value, std::move(out));
  }
  if (!problems.empty()) {
    for (auto& field : result.fields) {
      if (field == FieldOutcome::kRewritten) field = FieldOutcome::kUntouched;
    }
    result.outcome = Outcome::kError;
    result.detail = "not rekeyed: " + problems;
    return result;
  }
  const bool rewritten = std::find(result.fields.begin(), result.fields.end(),
                                   FieldOutcome::kRewritten) != result.fields.end();
  for (auto& [value, envelope] : resealed) *value = envelope;
  result.outcome = rewritten ? Outcome::kRewritten : Outcome::kUnchanged;
  return result;
}

}  // namespace backfilld::migrations
