#pragma once
/// The live gate: what a live job needs before it may be queued (keys for a kind that needs
/// them, an attested backup or restore point, and by default a succeeded dry run of the same
/// manifest and container).
#include <memory>
#include <string>
#include <vector>

#include "daemon/common/result.hpp"
#include "daemon/crypto/keyring.hpp"
#include "daemon/jobs/job.hpp"
#include "migrations/manifest.hpp"

namespace backfilld::jobs {

/// The keys a live encryption job needs; `error` says why they are unusable when they are.
struct KeyState {
  std::unique_ptr<crypto::Keyring> keyring;
  bool enabled = false;  ///< FIELD_ENCRYPT_ENABLED=true
  std::string error;     ///< from loading the keyring, if it failed
};

/// One live request for one container, as the gate sees it.
struct LiveGateRequest {
  const migrations::Manifest& manifest;
  const std::string& database;
  const migrations::ContainerSpec& spec;
  const std::string& backup_confirmed;
  bool require_dry_run = true;
};

/// True when `job` ran the same manifest on the same database and container.
bool same_target(const Job& job,
                 const std::string& database,
                 const std::string& container,
                 const migrations::Manifest& manifest);

/// Checks the gate against the known jobs; on success `dry_run_job` names the dry run that
/// cleared it (empty when none was needed). Error code live_gate, the message says which
/// condition failed.
common::Result<void> check_live_gate(const LiveGateRequest& request,
                                     const KeyState& keys,
                                     const std::vector<const Job*>& jobs,
                                     std::string& dry_run_job);

}  // namespace backfilld::jobs
