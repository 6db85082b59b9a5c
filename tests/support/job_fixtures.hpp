#pragma once
/// What the job-layer tests build again and again: an encrypt-fields manifest, a test keyring and
/// the manager's options.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/crypto/keyring.hpp"
#include "daemon/jobs/job_manager.hpp"
#include "migrations/envelope_fields.hpp"
#include "migrations/manifest.hpp"

namespace backfilld::testing {

/// An encrypt-fields manifest over `containers`: partition key /ws, field body (context: the
/// container's name), owner userId, productId notelett.
inline migrations::Manifest encrypt_manifest(const std::vector<std::string>& containers,
                                             std::uint32_t batch_size = 2,
                                             std::string id = "enc-v1") {
  migrations::Manifest m;
  m.id = std::move(id);
  m.kind = "encrypt-fields";
  m.product_id = "notelett";
  m.batch_size = batch_size;
  m.rollback = "forward-only";
  for (const std::string& name : containers) {
    migrations::ContainerSpec spec;
    spec.name = name;
    spec.partition_key_path = "/ws";
    spec.settings = migrations::EnvelopeFields{{"body"}, name, "userId", {}};
    m.containers.push_back(spec);
  }
  return m;
}

/// Keys for live jobs: one key "k1", every byte 7; `enabled` is FIELD_ENCRYPT_ENABLED.
inline jobs::KeyState test_keys(bool enabled = true) {
  crypto::KeyBytes key{};
  key.fill(7);
  return jobs::KeyState{std::make_unique<crypto::StaticKeyring>(
                            "env", "k1", std::map<std::string, crypto::KeyBytes>{{"k1", key}}),
                        enabled,
                        {}};
}

/// The job manager's options in the job-layer tests: two jobs at once, one per container, a
/// dry run before a live one, database "db"; `knobs` are the jobs' defaults.
inline jobs::ManagerOptions test_options(engine::RunSettings knobs = {}) {
  return jobs::ManagerOptions{.max_running_jobs = 2,
                              .max_jobs_per_container = 1,
                              .require_dry_run = true,
                              .default_database = "db",
                              .environment = "test",
                              .build_commit = "abc123",
                              .default_knobs = knobs};
}

}  // namespace backfilld::testing
