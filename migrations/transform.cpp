#include "migrations/transform.hpp"

#include "migrations/backfill_field.hpp"
#include "migrations/copy_container.hpp"
#include "migrations/encrypt_fields.hpp"
#include "migrations/rekey.hpp"
#include "migrations/remap_enum.hpp"
#include "migrations/remove_field.hpp"
#include "migrations/verify.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> make_transform(const Manifest& manifest,
                                                          const ContainerSpec& container,
                                                          const crypto::Keyring* keyring,
                                                          crypto::IvSource iv_source,
                                                          std::string updated_at) {
  const std::string_view kind = manifest.kind;
  // Only the schema kinds stamp updatedAt: encryption and copies keep every timestamp.
  const bool stamps = kind == kBackfillFieldKind || kind == kRenameFieldKind ||
                      kind == kRemoveFieldKind || kind == kRemapEnumKind;
  if (stamps && manifest.user_visible && updated_at.empty()) {
    return common::fail("invalid_manifest",
                        "a user-visible " + manifest.kind + " migration needs the run's time");
  }
  if (!manifest.user_visible) updated_at.clear();
  if (kind == kEncryptFieldsKind) {
    return EncryptFields::create(container, keyring, std::move(iv_source));
  }
  if (kind == kBackfillFieldKind || kind == kRenameFieldKind) {
    return BackfillField::create(container, std::move(updated_at));
  }
  if (kind == kRemoveFieldKind) return RemoveField::create(container, std::move(updated_at));
  if (kind == kRemapEnumKind) return RemapEnum::create(container, std::move(updated_at));
  if (kind == kCopyContainerKind) return CopyContainer::create(container);
  if (kind == kRekeyKind) return Rekey::create(container, keyring, std::move(iv_source));
  if (kind == kVerifyKind) return Verify::create(container, keyring);
  std::string known;
  for (const KindInfo& info : known_kinds())
    known += (known.empty() ? "" : ", ") + std::string(info.name);
  return common::fail("invalid_manifest",
                      "unknown migration kind \"" + manifest.kind + "\" (known: " + known + ")");
}

}  // namespace backfilld::migrations
