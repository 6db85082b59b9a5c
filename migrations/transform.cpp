#include "migrations/transform.hpp"

#include "migrations/kind.hpp"

namespace backfilld::migrations {

common::Result<std::unique_ptr<Transform>> make_transform(const Manifest& manifest,
                                                          const ContainerSpec& container,
                                                          const crypto::Keyring* keyring,
                                                          crypto::IvSource iv_source,
                                                          std::string updated_at) {
  const Kind* kind = find_kind(manifest.kind);
  if (kind == nullptr) {
    std::string known;
    for (const Kind* each : known_kinds()) {
      known += (known.empty() ? "" : ", ") + std::string(each->name());
    }
    return common::fail("invalid_manifest",
                        "unknown migration kind \"" + manifest.kind + "\" (known: " + known + ")");
  }
  // Only kinds that stamp updatedAt need the run's time: encryption and copies keep every
  // timestamp.
  const bool stamps = kind->info().stamps_updated_at && manifest.user_visible;
  if (stamps && updated_at.empty()) {
    return common::fail("invalid_manifest",
                        "a user-visible " + manifest.kind + " migration needs the run's time");
  }
  if (!stamps) updated_at.clear();
  return kind->make_transform(
      TransformInputs{manifest, container, keyring, std::move(iv_source), std::move(updated_at)});
}

}  // namespace backfilld::migrations
