#include "migrations/verify.hpp"

#include <openssl/crypto.h>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> Verify::create(const ContainerSpec& container,
                                                          const crypto::Keyring* keyring) {
  if (keyring == nullptr) {
    return common::fail("config",
                        "verify needs the keyring (FIELD_ENCRYPT_KEY_PROVIDER), even "
                        "for a dry run: it decrypts to check");
  }
  const bool complete = !container.fields.empty() && !container.context.empty();
  auto scope = checked_scope(container, true, complete ? "" : "needs fields and a context");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(new Verify(std::move(*scope), container, *keyring));
}

Verify::Verify(DocumentScope scope, const ContainerSpec& container, const crypto::Keyring& keyring)
    : ScopedTransform(std::move(scope), container),
      context_(container.context),
      keyring_(keyring) {}

TransformResult Verify::apply_in_scope(const InScope& in, TransformResult result) const {
  const std::string aad = crypto::make_aad(context_, in.owner);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const rapidjson::Value* value = common::find_member(in.document, fields_[i]);
    if (is_missing(value)) {
      result.fields[i] = FieldOutcome::kSkipped;
      continue;
    }
    if (!crypto::is_envelope(*value)) {
      result.fields[i] = FieldOutcome::kLeft;
      continue;
    }
    auto envelope = crypto::parse_envelope(*value);
    auto opened = envelope ? crypto::open(keyring_, *envelope, aad)
                           : common::Result<std::string>(common::Unexpected{envelope.error()});
    if (opened) {
      OPENSSL_cleanse(opened->data(), opened->size());
      result.fields[i] = FieldOutcome::kRewritten;
      continue;
    }
    result.fields[i] = FieldOutcome::kError;
    if (!result.detail.empty()) result.detail += "; ";
    result.detail += "field " + fields_[i] + ": " + opened.error().message;
  }
  return result;
}

}  // namespace backfilld::migrations
