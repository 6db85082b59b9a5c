#pragma once
/// The JSON summary `backfilld run` prints on stdout, built from the job status codec: per
/// container status, reason, counts, checks, time and rate of this run, and where it resumed.
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

#include "daemon/engine/container_runner.hpp"
#include "daemon/jobs/job_manager.hpp"

namespace backfilld::cli {

/// One container of a run: its job and what this run did with it.
struct RunEntry {
  std::string job_id;
  bool resumed = false;    ///< an unfinished job of an earlier run, continued
  bool done = false;       ///< finished by an earlier run this one continues: not run again
  bool ran = false;        ///< this run started it
  double seconds = 0;      ///< this run's time on it
  engine::Progress start;  ///< its checkpoint when this run took it over
};

/// {manifest, database, dryRun, containers: [{container, status, reason, counts, checks,
/// seconds, docsPerSecond, resumedFrom?}], ok}; resumedFrom: the batches and counts earlier runs
/// of the job had checkpointed. Lists the containers this run ran or found
/// done, in manifest order; a job a signal interrupted is "stopped" (and stays resumable).
rapidjson::Document run_summary(const jobs::JobManager& manager,
                                const std::string& manifest_id,
                                const std::string& database,
                                bool dry_run,
                                const std::vector<RunEntry>& entries,
                                std::optional<int> signal,
                                bool ok);

/// Writes the summary, pretty-printed, to stdout.
void print_summary(const rapidjson::Document& summary);

}  // namespace backfilld::cli
