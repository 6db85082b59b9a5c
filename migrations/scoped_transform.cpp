#include "migrations/scoped_transform.hpp"

namespace backfilld::migrations {

ScopedTransform::ScopedTransform(DocumentScope scope,
                                 std::vector<std::string> fields,
                                 std::string updated_at)
    : fields_(std::move(fields)), scope_(std::move(scope)), updated_at_(std::move(updated_at)) {}

common::Result<DocumentScope> ScopedTransform::checked_scope(const ContainerSpec& container,
                                                             const OwnerRule* owner,
                                                             std::string_view unmet) {
  auto scope = DocumentScope::create(container, owner);
  if (scope && !unmet.empty()) return invalid_container(container, unmet);
  return scope;
}

TransformResult ScopedTransform::apply(rapidjson::Value& document,
                                       rapidjson::Document::AllocatorType& allocator,
                                       Mode mode) const {
  TransformResult result{
      Outcome::kUnchanged, std::vector<FieldOutcome>(fields_.size(), FieldOutcome::kUntouched), {}};
  if (std::string refused = refusal(mode); !refused.empty()) {
    result.outcome = Outcome::kError;
    result.detail = std::move(refused);
    return result;
  }
  const auto check = scope_.check(document);
  if (check.problem) {
    result.outcome = *check.problem;
    return result;
  }
  if (check.owner_skipped) {
    result.fields.assign(fields_.size(), FieldOutcome::kSkipped);
    return result;
  }
  result = apply_in_scope({document, allocator, mode, check.owner}, std::move(result));
  if (result.outcome == Outcome::kRewritten && mode == Mode::kLive && !updated_at_.empty()) {
    stamp_updated_at(document, allocator, updated_at_);
  }
  return result;
}

SealingTransform::SealingTransform(DocumentScope scope,
                                   std::vector<std::string> fields,
                                   std::string context,
                                   const crypto::Keyring* keyring,
                                   crypto::IvSource iv_source,
                                   std::string_view kind)
    : ScopedTransform(std::move(scope), std::move(fields)),
      context_(std::move(context)),
      keyring_(keyring),
      iv_source_(std::move(iv_source)),
      kind_(kind) {}

std::string SealingTransform::refusal(Mode mode) const {
  if (mode == Mode::kDryRun || keyring_ != nullptr) return {};
  return "a live " + std::string(kind_) + " run needs a keyring and has none";
}

}  // namespace backfilld::migrations
