#include "daemon/jobs/live_gate.hpp"

namespace backfilld::jobs {

bool same_target(const Job& job,
                 const std::string& database,
                 const std::string& container,
                 const migrations::Manifest& manifest) {
  return job.database == database && job.container == container && job.manifest == manifest;
}

common::Result<void> check_live_gate(const LiveGateRequest& request,
                                     const KeyState& keys,
                                     const std::vector<const Job*>& jobs,
                                     std::string& dry_run_job) {
  const KindFacts kind = kind_facts(request.manifest.kind);
  if (kind.needs_keys) {
    if (!keys.enabled) {
      return common::fail(
          "live_gate", "a live " + request.manifest.kind + " job needs FIELD_ENCRYPT_ENABLED=true");
    }
    if (!keys.keyring) {
      return common::fail("live_gate", "encryption keys did not load: " + keys.error);
    }
  }
  if (!kind.writes) return {};  // verify reads only: nothing to roll back
  if (request.backup_confirmed.empty()) {
    return common::fail("live_gate",
                        "backupConfirmed is required: name the backup or restore point this "
                        "live run can be rolled back to");
  }
  if (!request.require_dry_run) return {};
  const Job* latest = nullptr;
  for (const Job* job : jobs) {
    if (job->dry_run && job->state == JobState::kSucceeded &&
        same_target(*job, request.database, request.spec.name, request.manifest) &&
        (latest == nullptr || job->sequence > latest->sequence)) {
      latest = job;
    }
  }
  if (latest == nullptr) {
    return common::fail("live_gate", "no succeeded dry run of migration " + request.manifest.id +
                                         " on container " + request.spec.name + " (database " +
                                         request.database + "): run one first");
  }
  dry_run_job = latest->id;
  return {};
}

}  // namespace backfilld::jobs
