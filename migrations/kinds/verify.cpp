#include "migrations/kinds/verify.hpp"

#include <openssl/crypto.h>

#include "daemon/common/json.hpp"

namespace backfilld::migrations {
namespace {

class VerifyKind final : public EnvelopeKind {
 public:
  VerifyKind()
      : EnvelopeKind({.name = "verify",
                      .rewritten_name = "verified",
                      .left_name = "plaintext",
                      .needs_keys = true,
                      .writes = false}) {}

  /// Counts plaintext values per field with a query (productId filter, skipOwners excluded) and
  /// fails when that count or the scan's undecryptable or plaintext values are not all zero.
  net::awaitable<CheckReport> after_scan(cosmos::DocumentStore& store,
                                         const CheckTarget& target,
                                         const engine::Counts& counts) const override;

 private:
  common::Result<std::unique_ptr<Transform>> make(const TransformInputs& inputs,
                                                  const EnvelopeFields& settings) const override {
    return Verify::create(inputs.container, settings, inputs.keyring);
  }
};

net::awaitable<CheckReport> VerifyKind::after_scan(cosmos::DocumentStore& store,
                                                   const CheckTarget& target,
                                                   const engine::Counts& counts) const {
  CheckReport report;
  const EnvelopeFields& settings = settings_of(target.spec);
  std::string findings;
  auto note = [&](const std::string& what) { findings += (findings.empty() ? "" : "; ") + what; };
  for (std::size_t i = 0; i < settings.fields.size(); ++i) {
    const std::string& field = settings.fields[i];
    const std::string ref = field_ref(field);
    QueryFilter filter(target.manifest, "IS_DEFINED(" + ref + ") AND NOT IS_NULL(" + ref +
                                            ") AND NOT IS_DEFINED(" + ref + "[\"__encrypted\"])");
    if (!settings.skip_owners.empty()) {
      filter.where +=
          " AND NOT ARRAY_CONTAINS(@skipOwners, " + field_ref(settings.user_id_field) + ")";
      rapidjson::Value owners(rapidjson::kArrayType);
      for (const auto& owner : settings.skip_owners) {
        owners.PushBack(rapidjson::Value(owner.c_str(), filter.parameters.GetAllocator()),
                        filter.parameters.GetAllocator());
      }
      filter.add("@skipOwners", std::move(owners));
    }
    const cosmos::ContainerRef container{target.database, target.spec.name};
    auto plaintext = co_await count_documents(store, container, filter);
    if (!plaintext) {
      report.failure =
          "plaintext count of " + field + " failed: " + cosmos::describe(plaintext.error());
      co_return report;
    }
    const engine::FieldCounts scanned =
        i < counts.fields.size() ? counts.fields[i] : engine::FieldCounts{};
    report.figures.emplace_back("plaintext." + field, *plaintext);
    report.figures.emplace_back("undecryptable." + field, scanned.errors);
    std::string found;
    auto add = [&](std::uint64_t count, std::string_view what) {
      if (count == 0) return;
      found += (found.empty() ? "" : ", ") + std::to_string(count) + " " + std::string(what);
    };
    add(*plaintext, "plaintext");
    // The query sees every document; the scan only those with a usable key and owner.
    if (scanned.left > *plaintext) add(scanned.left, "plaintext seen by the scan");
    add(scanned.errors, "undecryptable");
    if (!found.empty()) note(field + ": " + found);
  }
  if (!findings.empty()) report.failure = "verification failed: " + findings;
  co_return report;
}

}  // namespace

const Kind& verify_kind() {
  static const VerifyKind kKind;
  return kKind;
}

common::Result<std::unique_ptr<Transform>> Verify::create(const ContainerSpec& container,
                                                          const EnvelopeFields& settings,
                                                          const crypto::Keyring* keyring) {
  if (keyring == nullptr) {
    return common::fail("config",
                        "verify needs the keyring (FIELD_ENCRYPT_KEY_PROVIDER), even "
                        "for a dry run: it decrypts to check");
  }
  const bool complete = !settings.fields.empty() && !settings.context.empty();
  const OwnerRule owner = settings.owner();
  auto scope = checked_scope(container, &owner, complete ? "" : "needs fields and a context");
  if (!scope) return common::Unexpected{scope.error()};
  return std::unique_ptr<Transform>(new Verify(std::move(*scope), settings, *keyring));
}

Verify::Verify(DocumentScope scope, const EnvelopeFields& settings, const crypto::Keyring& keyring)
    : ScopedTransform(std::move(scope), settings.fields),
      context_(settings.context),
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
