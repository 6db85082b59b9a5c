#include "daemon/jobs/job_codec.hpp"

#include <algorithm>

#include "daemon/common/json.hpp"
#include "daemon/common/time_format.hpp"
#include "daemon/jobs/governor_json.hpp"

namespace backfilld::jobs {
namespace {

using Allocator = rapidjson::Document::AllocatorType;
constexpr int kStateVersion = 1;

rapidjson::Value text(std::string_view value, Allocator& allocator) {
  return rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), allocator);
}

rapidjson::Value time_value(TimePoint when, Allocator& allocator) {
  if (when == TimePoint{}) return rapidjson::Value(rapidjson::kNullType);
  return text(common::iso8601(when), allocator);
}

rapidjson::Value knobs_json(const engine::RunSettings& knobs, Allocator& allocator) {
  rapidjson::Value json(rapidjson::kObjectType);
  json.AddMember("batchSize", knobs.batch_size, allocator);
  json.AddMember("writeConcurrency", knobs.write_concurrency, allocator);
  json.AddMember("maxDocumentsPerSecond", knobs.max_documents_per_second, allocator);
  json.AddMember("maxRequestUnitsPerSecond", knobs.max_request_units_per_second, allocator);
  json.AddMember("maxThroughputFraction", knobs.max_throughput_fraction, allocator);
  json.AddMember("writeMode", text(engine::to_string(knobs.write_mode), allocator), allocator);
  json.AddMember("rangeConcurrency", knobs.range_concurrency, allocator);
  return json;
}

/// One range's position: everything in a checkpoint; without the continuation in a status.
rapidjson::Value range_json(const engine::RangePosition& position,
                            bool checkpoint,
                            Allocator& allocator) {
  rapidjson::Value json(rapidjson::kObjectType);
  json.AddMember("id", text(position.range_id, allocator), allocator);
  json.AddMember("minInclusive", text(position.min_inclusive, allocator), allocator);
  json.AddMember("maxExclusive", text(position.max_exclusive, allocator), allocator);
  if (checkpoint) json.AddMember("continuation", text(position.continuation, allocator), allocator);
  json.AddMember("finished", position.finished, allocator);
  json.AddMember("scanned", position.scanned, allocator);
  json.AddMember("batches", position.batches, allocator);
  if (position.partial) json.AddMember("partial", true, allocator);
  if (!position.split_into.empty()) {
    rapidjson::Value children(rapidjson::kArrayType);
    for (const std::string& id : position.split_into)
      children.PushBack(text(id, allocator), allocator);
    json.AddMember("splitInto", children, allocator);
  }
  return json;
}

/// Whether `value` can go back to Cosmos as a header: a control character (CR, LF) would split
/// the request.
bool header_safe(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

rapidjson::Value counts_json(const Job& job, const engine::Counts& counts, Allocator& allocator) {
  return engine::counts_to_json(counts, job.counted_fields(), job.rewritten_name(), allocator,
                                job.left_name());
}

/// Reads members of a state file, remembering the first problem.
class Reader {
 public:
  explicit Reader(const rapidjson::Value& object) : object_(object) {}

  std::string string(std::string_view name) {
    const rapidjson::Value* member = common::find_member(object_, name);
    if (member == nullptr || member->IsNull()) return {};
    if (!member->IsString()) return problem(name, "must be a string"), std::string();
    return std::string(member->GetString(), member->GetStringLength());
  }
  std::uint64_t uint(std::string_view name) {
    const rapidjson::Value* member = common::find_member(object_, name);
    if (member == nullptr || !member->IsUint64()) return problem(name, "must be a count"), 0;
    return member->GetUint64();
  }
  double number(std::string_view name) {
    const rapidjson::Value* member = common::find_member(object_, name);
    if (member == nullptr || !member->IsNumber()) return problem(name, "must be a number"), 0.0;
    return member->GetDouble();
  }
  bool boolean(std::string_view name) {
    const rapidjson::Value* member = common::find_member(object_, name);
    if (member == nullptr || !member->IsBool())
      return problem(name, "must be true or false"), false;
    return member->GetBool();
  }
  TimePoint time(std::string_view name) {
    const std::string value = string(name);
    if (value.empty()) return {};
    auto parsed = common::parse_iso8601(value);
    if (!parsed) return problem(name, "must be an ISO 8601 UTC time"), TimePoint{};
    return *parsed;
  }
  const rapidjson::Value& object(std::string_view name) {
    static const rapidjson::Value kEmpty(rapidjson::kObjectType);
    const rapidjson::Value* member = common::find_member(object_, name);
    if (member == nullptr || !member->IsObject()) return problem(name, "must be an object"), kEmpty;
    return *member;
  }
  void problem(std::string_view name, std::string_view what) {
    problem(std::string(name) + ": " + std::string(what));
  }
  /// A problem whose message already names the member ("batchSize: must be ...").
  void problem(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  const std::string& error() const { return error_; }

 private:
  const rapidjson::Value& object_;
  std::string error_;
};

/// One range's position from a checkpoint; problems go to `checkpoint` as "ranges: ...".
engine::RangePosition read_range(const rapidjson::Value& item, Reader& checkpoint) {
  Reader range(item);
  engine::RangePosition position;
  position.range_id = range.string("id");
  position.min_inclusive = range.string("minInclusive");
  position.max_exclusive = range.string("maxExclusive");
  position.continuation = range.string("continuation");
  position.finished = range.boolean("finished");
  position.scanned = range.uint("scanned");
  position.batches = range.uint("batches");
  if (const rapidjson::Value* partial = common::find_member(item, "partial")) {
    position.partial = partial->IsBool() && partial->GetBool();
  }
  if (const rapidjson::Value* children = common::find_member(item, "splitInto");
      children != nullptr && children->IsArray()) {
    for (const auto& child : children->GetArray()) {
      if (child.IsString()) position.split_into.emplace_back(child.GetString());
    }
  }
  for (std::string_view value :
       {std::string_view(position.continuation), std::string_view(position.range_id),
        std::string_view(position.min_inclusive), std::string_view(position.max_exclusive)}) {
    if (!header_safe(value)) range.problem("continuation", "must not hold control characters");
  }
  if (!range.error().empty()) checkpoint.problem("ranges: " + range.error());
  return position;
}

}  // namespace

std::string to_state_json(const Job& job) {
  rapidjson::Document json(rapidjson::kObjectType);
  auto& allocator = json.GetAllocator();
  json.AddMember("version", kStateVersion, allocator);
  json.AddMember("id", text(job.id, allocator), allocator);
  json.AddMember("sequence", job.sequence, allocator);
  rapidjson::Document manifest = migrations::to_json(job.manifest);
  json.AddMember("manifest", rapidjson::Value(manifest, allocator), allocator);
  json.AddMember("container", text(job.container, allocator), allocator);
  json.AddMember("database", text(job.database, allocator), allocator);
  json.AddMember("dryRun", job.dry_run, allocator);
  json.AddMember("operator", text(job.operator_name, allocator), allocator);
  json.AddMember("backupConfirmed", text(job.backup_confirmed, allocator), allocator);
  json.AddMember("dryRunJob", text(job.dry_run_job, allocator), allocator);
  json.AddMember("state", text(to_string(job.state), allocator), allocator);
  json.AddMember("pauseRequested", job.pause_requested, allocator);
  json.AddMember("reason", text(job.reason, allocator), allocator);
  json.AddMember("stoppedBy", text(job.stopped_by, allocator), allocator);
  json.AddMember("knobs", knobs_json(job.knobs, allocator), allocator);
  rapidjson::Value checkpoint(rapidjson::kObjectType);
  rapidjson::Value ranges(rapidjson::kArrayType);
  for (const engine::RangePosition& position : job.progress.ranges) {
    ranges.PushBack(range_json(position, true, allocator), allocator);
  }
  checkpoint.AddMember("ranges", ranges, allocator);
  checkpoint.AddMember("batches", job.progress.batches, allocator);
  checkpoint.AddMember("finished", job.progress.finished, allocator);
  checkpoint.AddMember("counts", counts_json(job, job.progress.counts, allocator), allocator);
  json.AddMember("checkpoint", checkpoint, allocator);
  json.AddMember("checks", engine::check_report_to_json(job.checks, allocator), allocator);
  if (job.estimated_total) {
    json.AddMember("estimatedTotal", *job.estimated_total, allocator);
  }
  json.AddMember("submittedAt", time_value(job.submitted_at, allocator), allocator);
  json.AddMember("startedAt", time_value(job.started_at, allocator), allocator);
  json.AddMember("finishedAt", time_value(job.finished_at, allocator), allocator);
  json.AddMember("lastCheckpointAt", time_value(job.last_checkpoint_at, allocator), allocator);
  json.AddMember("keyProvider", text(job.key_provider, allocator), allocator);
  json.AddMember("keyId", text(job.key_id, allocator), allocator);
  json.AddMember("buildCommit", text(job.build_commit, allocator), allocator);
  json.AddMember("environment", text(job.environment, allocator), allocator);
  return common::to_json(json);
}

common::Result<Job> from_state_json(std::string_view state_text) {
  // The manifest sits one level down in a state file: one more level than a manifest may use.
  auto parsed = common::parse_json(state_text, common::kMaxJsonDepth + 1);
  if (!parsed) return common::Unexpected{parsed.error()};
  if (!parsed->IsObject()) return common::fail("invalid_state", "state is not a JSON object");
  Reader read(*parsed);
  Job job;
  if (read.uint("version") != kStateVersion) {
    return common::fail("invalid_state", "unsupported state version");
  }
  job.id = read.string("id");
  job.sequence = read.uint("sequence");
  auto manifest = migrations::parse_manifest(read.object("manifest"));
  if (!manifest) return common::fail("invalid_state", "manifest: " + manifest.error().message);
  job.manifest = std::move(manifest.value());
  job.container = read.string("container");
  if (job.manifest.find_container(job.container) == nullptr) {
    return common::fail("invalid_state", "container: not in the job's manifest");
  }
  job.database = read.string("database");
  job.dry_run = read.boolean("dryRun");
  job.operator_name = read.string("operator");
  job.backup_confirmed = read.string("backupConfirmed");
  job.dry_run_job = read.string("dryRunJob");
  const auto state = parse_job_state(read.string("state"));
  if (!state) read.problem("state", "must be a job state");
  job.state = state.value_or(JobState::kFailed);
  job.pause_requested = read.boolean("pauseRequested");
  job.reason = read.string("reason");
  job.stopped_by = read.string("stoppedBy");

  const rapidjson::Value& read_knobs = read.object("knobs");
  Reader knobs(read_knobs);
  job.knobs.batch_size = static_cast<std::uint32_t>(knobs.uint("batchSize"));
  job.knobs.write_concurrency = static_cast<std::uint32_t>(knobs.uint("writeConcurrency"));
  // State files written before ranges were scanned in parallel have none: the default.
  if (common::find_member(read_knobs, "rangeConcurrency") != nullptr) {
    job.knobs.range_concurrency = static_cast<std::uint32_t>(knobs.uint("rangeConcurrency"));
  }
  job.knobs.max_documents_per_second = knobs.number("maxDocumentsPerSecond");
  job.knobs.max_request_units_per_second = knobs.number("maxRequestUnitsPerSecond");
  // State files written before the throughput fraction existed have none: no limit.
  if (common::find_member(read_knobs, "maxThroughputFraction") != nullptr) {
    job.knobs.max_throughput_fraction = knobs.number("maxThroughputFraction");
    if (!(job.knobs.max_throughput_fraction >= 0 && job.knobs.max_throughput_fraction <= 1)) {
      knobs.problem("maxThroughputFraction", "must be from 0 to 1");
    }
  }
  // State files written before writeMode existed have none: auto.
  if (const std::string mode = knobs.string("writeMode"); !mode.empty()) {
    const auto parsed = engine::parse_write_mode(mode);
    if (!parsed) knobs.problem("writeMode", "must be auto, batch, bulk or single");
    job.knobs.write_mode = parsed.value_or(engine::WriteMode::kAuto);
  }

  if (auto valid = engine::validate(job.knobs); !valid) knobs.problem(valid.error().message);

  const rapidjson::Value& checkpoint_json = read.object("checkpoint");
  Reader checkpoint(checkpoint_json);
  job.progress.batches = checkpoint.uint("batches");
  if (const rapidjson::Value* ranges = common::find_member(checkpoint_json, "ranges")) {
    static const rapidjson::Value kNone(rapidjson::kArrayType);
    if (!ranges->IsArray()) checkpoint.problem("ranges", "must be an array");
    for (const rapidjson::Value& item : (ranges->IsArray() ? *ranges : kNone).GetArray()) {
      if (!item.IsObject()) {
        checkpoint.problem("ranges", "must hold objects");
        break;
      }
      job.progress.ranges.push_back(read_range(item, checkpoint));
    }
  } else if (std::string continuation = checkpoint.string("continuation"); !continuation.empty()) {
    // A checkpoint from before range scans: its cross-partition query goes on as it was.
    if (!header_safe(continuation)) {
      checkpoint.problem("continuation", "must not hold control characters");
    }
    job.progress.ranges.emplace_back().continuation = std::move(continuation);
  }
  job.progress.finished = checkpoint.boolean("finished");
  job.progress.counts = engine::counts_from_json(checkpoint.object("counts"), job.counted_fields(),
                                                 job.rewritten_name(), job.left_name());
  if (const rapidjson::Value* checks = common::find_member(*parsed, "checks")) {
    job.checks = engine::check_report_from_json(*checks);
  }
  if (const rapidjson::Value* total = common::find_member(*parsed, "estimatedTotal");
      total != nullptr && total->IsUint64()) {
    job.estimated_total = total->GetUint64();
  }
  job.submitted_at = read.time("submittedAt");
  job.started_at = read.time("startedAt");
  job.finished_at = read.time("finishedAt");
  job.last_checkpoint_at = read.time("lastCheckpointAt");
  job.key_provider = read.string("keyProvider");
  job.key_id = read.string("keyId");
  job.build_commit = read.string("buildCommit");
  job.environment = read.string("environment");
  for (const std::string& error : {read.error(), knobs.error(), checkpoint.error()}) {
    if (!error.empty()) return common::fail("invalid_state", error);
  }
  return job;
}

rapidjson::Value to_counts_json(const Job& job,
                                const engine::Counts& counts,
                                rapidjson::Document::AllocatorType& allocator) {
  return counts_json(job, counts, allocator);
}

void to_status_json(const Job& job,
                    const JobLive& live,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator) {
  out.SetObject();
  out.AddMember("id", text(job.id, allocator), allocator);
  out.AddMember("migration", text(job.manifest.id, allocator), allocator);
  out.AddMember("kind", text(job.manifest.kind, allocator), allocator);
  out.AddMember("database", text(job.database, allocator), allocator);
  out.AddMember("container", text(job.container, allocator), allocator);
  out.AddMember("dryRun", job.dry_run, allocator);
  out.AddMember("state", text(to_string(job.state), allocator), allocator);
  out.AddMember("reason", job.reason.empty() ? rapidjson::Value() : text(job.reason, allocator),
                allocator);
  out.AddMember("operator", text(job.operator_name, allocator), allocator);
  out.AddMember("counts", counts_json(job, live.observed, allocator), allocator);
  out.AddMember("checks", engine::check_report_to_json(job.checks, allocator), allocator);

  rapidjson::Value progress(rapidjson::kObjectType);
  progress.AddMember("scanned", live.observed.scanned, allocator);
  progress.AddMember("batches", job.progress.batches, allocator);
  if (job.estimated_total) {
    progress.AddMember("estimatedTotal", *job.estimated_total, allocator);
    const double ratio = job.state == JobState::kSucceeded
                             ? 1.0
                             : (*job.estimated_total == 0
                                    ? 0.0
                                    : std::min(1.0, static_cast<double>(live.observed.scanned) /
                                                        static_cast<double>(*job.estimated_total)));
    progress.AddMember("ratio", ratio, allocator);
  } else {
    progress.AddMember("estimatedTotal", rapidjson::Value(), allocator);
    progress.AddMember("ratio", rapidjson::Value(), allocator);
  }
  rapidjson::Value ranges(rapidjson::kArrayType);
  for (const engine::RangePosition& position : live.ranges) {
    rapidjson::Value item = range_json(position, false, allocator);
    item.AddMember("active", live.active_ranges.contains(position.key()), allocator);
    ranges.PushBack(item, allocator);
  }
  progress.AddMember("ranges", ranges, allocator);
  out.AddMember("progress", progress, allocator);
  out.AddMember("ratePerSecond", live.rate_per_second, allocator);
  out.AddMember("etaSeconds",
                live.eta_seconds ? rapidjson::Value(*live.eta_seconds) : rapidjson::Value(),
                allocator);
  out.AddMember("waiting",
                live.waiting.empty() ? rapidjson::Value() : text(live.waiting, allocator),
                allocator);
  out.AddMember("pauseRequested", live.pause_requested, allocator);
  out.AddMember("stopRequested", live.stop_requested, allocator);
  out.AddMember("inflightWrites", static_cast<std::uint64_t>(live.inflight_writes), allocator);
  out.AddMember("requestUnits",
                live.budget ? job_budget_json(*live.budget, allocator) : rapidjson::Value(),
                allocator);
  out.AddMember(
      "throttle",
      live.throttle ? throttle_signal_json(*live.throttle, allocator) : rapidjson::Value(),
      allocator);
  out.AddMember("knobs", knobs_json(job.knobs, allocator), allocator);
  out.AddMember("submittedAt", time_value(job.submitted_at, allocator), allocator);
  out.AddMember("startedAt", time_value(job.started_at, allocator), allocator);
  out.AddMember("finishedAt", time_value(job.finished_at, allocator), allocator);
  out.AddMember("lastCheckpointAt", time_value(job.last_checkpoint_at, allocator), allocator);
}

void to_status_json(const SetAsideJob& job,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator) {
  out.SetObject();
  out.AddMember("id", text(job.id, allocator), allocator);
  out.AddMember("state", text(to_string(JobState::kFailed), allocator), allocator);
  out.AddMember("reason", text(job.reason, allocator), allocator);
  out.AddMember("stateFile", text(job.state_file, allocator), allocator);
}

void to_report_json(const Job& job,
                    const Job* dry_run,
                    rapidjson::Value& out,
                    rapidjson::Document::AllocatorType& allocator) {
  out.SetObject();
  out.AddMember("migrationId", text(job.manifest.id, allocator), allocator);
  out.AddMember("jobId", text(job.id, allocator), allocator);
  out.AddMember("kind", text(job.manifest.kind, allocator), allocator);
  out.AddMember("database", text(job.database, allocator), allocator);
  out.AddMember("container", text(job.container, allocator), allocator);
  out.AddMember("buildCommit", text(job.build_commit, allocator), allocator);
  out.AddMember("environment", text(job.environment, allocator), allocator);
  out.AddMember("keyProvider", text(job.key_provider, allocator), allocator);
  out.AddMember("keyId", text(job.key_id, allocator), allocator);
  out.AddMember("operator", text(job.operator_name, allocator), allocator);
  out.AddMember("backupConfirmed", text(job.backup_confirmed, allocator), allocator);
  out.AddMember("mode", rapidjson::StringRef(job.dry_run ? "dry-run" : "live"), allocator);
  out.AddMember("state", text(to_string(job.state), allocator), allocator);
  out.AddMember("reason", job.reason.empty() ? rapidjson::Value() : text(job.reason, allocator),
                allocator);
  out.AddMember("stoppedBy",
                job.stopped_by.empty() ? rapidjson::Value() : text(job.stopped_by, allocator),
                allocator);
  out.AddMember("startedAt", time_value(job.started_at, allocator), allocator);
  out.AddMember("finishedAt", time_value(job.finished_at, allocator), allocator);

  const Job* dry = job.dry_run ? &job : dry_run;
  rapidjson::Value dry_json(rapidjson::kObjectType);
  if (dry != nullptr) {
    dry_json.AddMember("jobId", text(dry->id, allocator), allocator);
    dry_json.AddMember("counts", counts_json(*dry, dry->progress.counts, allocator), allocator);
    dry_json.AddMember("finishedAt", time_value(dry->finished_at, allocator), allocator);
  }
  out.AddMember("dryRun", dry != nullptr ? std::move(dry_json) : rapidjson::Value(), allocator);
  if (!job.dry_run) {
    rapidjson::Value live(rapidjson::kObjectType);
    live.AddMember("counts", counts_json(job, job.progress.counts, allocator), allocator);
    out.AddMember("live", live, allocator);
  } else {
    out.AddMember("live", rapidjson::Value(), allocator);
  }
  out.AddMember("rollback", text(job.manifest.rollback, allocator), allocator);
  out.AddMember("userVisible", job.manifest.user_visible, allocator);
}

}  // namespace backfilld::jobs
