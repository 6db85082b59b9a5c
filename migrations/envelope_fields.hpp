#pragma once
/// The field map the envelope kinds share (encrypt-fields, and rekey and verify, which read the
/// same map): the settings, their manifest form, and a row base that parses and writes them.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/document_scope.hpp"
#include "migrations/kind.hpp"

namespace backfilld::migrations {

/// {"fields": ["body"], "context": "notes", "userIdField": "userId", "skipOwners": [...]}.
struct EnvelopeFields {
  std::vector<std::string> fields;       ///< the mapped top-level fields, counted in this order
  std::string context;                   ///< AAD context, e.g. "palace-memory"
  std::string user_id_field;             ///< owner field, e.g. "userId"
  std::vector<std::string> skip_owners;  ///< owners whose documents are left alone ("__builtin__")

  OwnerRule owner() const { return {user_id_field, skip_owners}; }
  bool operator==(const EnvelopeFields&) const = default;
};

/// The row of a kind whose settings are an EnvelopeFields map; it adds its info, transform and
/// checks.
class EnvelopeKind : public TypedKind<EnvelopeFields> {
 public:
  using TypedKind::TypedKind;
  std::span<const std::string_view> keys() const final;

 protected:
  EnvelopeFields parse_settings(const rapidjson::Value& json,
                                const std::string& path,
                                const ContainerSpec& container,
                                Problems& problems) const final;
  void write_settings(const EnvelopeFields& settings,
                      rapidjson::Value& out,
                      Allocator& allocator) const final;
  std::vector<std::string> fields_of(const EnvelopeFields& settings) const final {
    return settings.fields;
  }
};

}  // namespace backfilld::migrations
