#include "daemon/cli/run_summary.hpp"

#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>

#include "daemon/jobs/job_codec.hpp"

namespace backfilld::cli {
namespace {

using Allocator = rapidjson::Document::AllocatorType;

rapidjson::Value text(const std::string& value, Allocator& allocator) {
  return rapidjson::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), allocator);
}

rapidjson::Value entry_json(const jobs::JobManager& manager,
                            const jobs::Job& job,
                            const RunEntry& entry,
                            std::optional<int> signal,
                            Allocator& allocator) {
  rapidjson::Value status;
  jobs::to_status_json(job, manager.live(job), status, allocator);
  rapidjson::Value out(rapidjson::kObjectType);
  out.AddMember("container", text(job.container, allocator), allocator);
  std::string state(jobs::to_string(job.state));
  std::string reason = job.reason;
  if (!jobs::is_terminal(job.state)) {
    // Interrupted by a signal: checkpointed, and the next run of the same command resumes it.
    state = "stopped";
    reason = fmt::format("stopped by signal {} after batch {}: rerun to resume", signal.value_or(0),
                         job.progress.batches);
  }
  out.AddMember("status", text(state, allocator), allocator);
  if (!reason.empty()) out.AddMember("reason", text(reason, allocator), allocator);
  out.AddMember("counts", status["counts"], allocator);
  out.AddMember("checks", status["checks"], allocator);
  out.AddMember("ranges", status["progress"]["ranges"], allocator);
  out.AddMember("seconds", entry.seconds, allocator);
  const std::uint64_t scanned = status["progress"]["scanned"].GetUint64();
  const std::uint64_t scanned_now = scanned - std::min(scanned, entry.start.counts.scanned);
  out.AddMember("docsPerSecond",
                entry.seconds > 0 ? static_cast<double>(scanned_now) / entry.seconds : 0.0,
                allocator);
  if (entry.done || (entry.resumed && entry.start.batches > 0)) {
    // What earlier runs of this job had done (counts as of its checkpoint then).
    rapidjson::Value from(rapidjson::kObjectType);
    from.AddMember("batches", entry.start.batches, allocator);
    from.AddMember("counts", jobs::to_counts_json(job, entry.start.counts, allocator), allocator);
    out.AddMember("resumedFrom", from, allocator);
  }
  return out;
}

}  // namespace

rapidjson::Document run_summary(const jobs::JobManager& manager,
                                const std::string& manifest_id,
                                const std::string& database,
                                bool dry_run,
                                const std::vector<RunEntry>& entries,
                                std::optional<int> signal,
                                bool ok) {
  rapidjson::Document summary(rapidjson::kObjectType);
  auto& allocator = summary.GetAllocator();
  summary.AddMember("manifest", text(manifest_id, allocator), allocator);
  summary.AddMember("database", text(database, allocator), allocator);
  summary.AddMember("dryRun", dry_run, allocator);
  rapidjson::Value containers(rapidjson::kArrayType);
  for (const RunEntry& entry : entries) {
    const jobs::Job* job = manager.find(entry.job_id);
    if (job == nullptr || !(entry.ran || entry.done)) continue;
    containers.PushBack(entry_json(manager, *job, entry, signal, allocator), allocator);
  }
  summary.AddMember("containers", containers, allocator);
  summary.AddMember("ok", ok, allocator);
  return summary;
}

void print_summary(const rapidjson::Document& summary) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  summary.Accept(writer);
  std::fwrite(buffer.GetString(), 1, buffer.GetSize(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace backfilld::cli
