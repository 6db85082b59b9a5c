#pragma once
/// The frame of every kind that edits one document in place: its fields, the scope check
/// (partition key, owner) made once before the kind's own work, and the updatedAt stamp of
/// user-visible migrations.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/transform.hpp"

namespace backfilld::migrations {

class ScopedTransform : public Transform {
 public:
  const std::vector<std::string>& fields() const final { return fields_; }
  using Transform::apply;
  /// A refusal (kError), else the scope's problem, else every field skipped for a skipped owner,
  /// else the kind's apply_in_scope; a live kRewritten document is stamped when updated_at is set.
  TransformResult apply(rapidjson::Value& document,
                        rapidjson::Document::AllocatorType& allocator,
                        Mode mode) const final;

 protected:
  /// `fields` are the counted fields; `updated_at` is stamped on rewritten documents when
  /// non-empty (user-visible migrations).
  ScopedTransform(DocumentScope scope,
                  std::vector<std::string> fields,
                  std::string updated_at = {});

  /// The scope of `container` (keyed by `owner` unless null), or its problem; then, when `unmet`
  /// is not empty, "container <name>: <unmet>".
  static common::Result<DocumentScope> checked_scope(const ContainerSpec& container,
                                                     const OwnerRule* owner,
                                                     std::string_view unmet);

  /// Why the kind refuses every document in `mode` (e.g. a live run without keys), or empty.
  virtual std::string refusal(Mode) const { return {}; }
  /// A document past the scope check, and what the kind's work needs with it.
  struct InScope {
    rapidjson::Value& document;
    rapidjson::Document::AllocatorType& allocator;
    Mode mode;
    std::string_view owner;  ///< the owner's id, for kinds keyed by owner
  };
  /// The kind's work; `result.fields` starts all kUntouched.
  virtual TransformResult apply_in_scope(const InScope& in, TransformResult result) const = 0;

  std::vector<std::string> fields_;

 private:
  DocumentScope scope_;
  std::string updated_at_;
};

/// The kinds that seal envelopes (encrypt-fields, rekey): the AAD context, the keyring (null:
/// they classify only) and the IV source. A live run without a keyring is refused.
class SealingTransform : public ScopedTransform {
 protected:
  SealingTransform(DocumentScope scope,
                   std::vector<std::string> fields,
                   std::string context,
                   const crypto::Keyring* keyring,
                   crypto::IvSource iv_source,
                   std::string_view kind);
  std::string refusal(Mode mode) const final;

  std::string context_;
  const crypto::Keyring* keyring_;
  crypto::IvSource iv_source_;

 private:
  std::string_view kind_;
};

}  // namespace backfilld::migrations
