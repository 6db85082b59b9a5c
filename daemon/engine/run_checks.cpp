#include "daemon/engine/run_checks.hpp"

#include <rapidjson/pointer.h>
#include <spdlog/spdlog.h>

#include "daemon/common/json.hpp"
#include "daemon/common/json_writer.hpp"
#include "migrations/copy_container.hpp"

namespace backfilld::engine {
namespace {

using migrations::Mode;

/// c["name"]: any top-level field name, quoted as JSON.
std::string field_ref(std::string_view name) {
  std::string out = "c[";
  common::append_json_string(name, out);
  return out + "]";
}

/// The WHERE clause and parameters of one check query: the manifest's productId filter (plan:
/// filter by productId wherever the query shape allows), then `conditions`.
struct Filter {
  std::string where;
  rapidjson::Document parameters{rapidjson::kArrayType};

  Filter(const migrations::Manifest& manifest, std::string conditions) {
    if (manifest.product_id) {
      where = "c.productId = @productId";
      add("@productId", rapidjson::Value(manifest.product_id->c_str(), parameters.GetAllocator()));
    }
    if (!conditions.empty()) where += (where.empty() ? "" : " AND ") + conditions;
  }
  void add(std::string_view name, rapidjson::Value value) {
    auto& allocator = parameters.GetAllocator();
    rapidjson::Value parameter(rapidjson::kObjectType);
    parameter.AddMember(
        "name",
        rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator),
        allocator);
    parameter.AddMember("value", value, allocator);
    parameters.PushBack(parameter, allocator);
  }
  std::string parameters_json() const { return common::to_json(parameters); }
};

net::awaitable<cosmos::Result<std::uint64_t>> count(cosmos::DocumentStore& store,
                                                    const cosmos::ContainerRef& container,
                                                    const Filter& filter) {
  co_return co_await count_documents(store, container, filter.where, filter.parameters_json());
}

std::string describe_failure(const cosmos::Error& error) { return cosmos::describe(error); }

net::awaitable<CheckReport> remove_field_before(cosmos::DocumentStore& store,
                                                const CheckTarget& target) {
  CheckReport report;
  const std::string& field = target.spec.fields.at(0);
  const std::string& required = target.spec.require_field;
  const Filter filter(target.manifest, "IS_DEFINED(" + field_ref(field) + ") AND (NOT IS_DEFINED(" +
                                           field_ref(required) + ") OR IS_NULL(" +
                                           field_ref(required) + "))");
  const cosmos::ContainerRef source{target.database, target.spec.name};
  auto lacking = co_await count(store, source, filter);
  if (!lacking) {
    report.failure = "cannot check that " + required + " is present wherever " + field +
                     " is: " + describe_failure(lacking.error());
    co_return report;
  }
  report.figures.emplace_back("lacking." + required, *lacking);
  if (*lacking > 0 && target.mode == Mode::kLive) {
    report.failure = "refused: " + std::to_string(*lacking) + " documents have " + field +
                     " but no " + required + "; backfill " + required +
                     " first (rename-field), then remove " + field;
  }
  co_return report;
}

net::awaitable<CheckReport> copy_before(cosmos::DocumentStore& store, const CheckTarget& target) {
  CheckReport report;
  const migrations::CopyTarget& copy = target.spec.target;
  if (target.mode != Mode::kLive) co_return report;
  if (copy.create) {
    auto created =
        co_await store.create_container(target.database, copy.name, copy.partition_key_path);
    if (!created) {
      report.failure =
          "cannot create target container " + copy.name + ": " + describe_failure(created.error());
      co_return report;
    }
    if (*created) spdlog::info("created container {} ({})", copy.name, copy.partition_key_path);
  }
  const cosmos::ContainerRef destination{target.database, copy.name};
  const Filter all(target.manifest, "");
  auto before = co_await count(store, destination, all);
  if (!before) {
    report.failure = "target container " + copy.name + " cannot be read" +
                     (copy.create ? "" : " (set target.create to create it)") + ": " +
                     describe_failure(before.error());
    co_return report;
  }
  report.figures.emplace_back("targetCountBefore", *before);
  co_return report;
}

/// Strips what the server sets, so a source document and its copy compare equal.
void strip_system_properties(rapidjson::Value& document) {
  for (auto it = document.MemberBegin(); it != document.MemberEnd();) {
    if (migrations::is_system_property({it->name.GetString(), it->name.GetStringLength()})) {
      it = document.EraseMember(it);
    } else {
      ++it;
    }
  }
}

net::awaitable<CheckReport> copy_after(cosmos::DocumentStore& store, const CheckTarget& target) {
  CheckReport report;
  const migrations::CopyTarget& copy = target.spec.target;
  const cosmos::ContainerRef source{target.database, target.spec.name};
  const cosmos::ContainerRef destination{target.database, copy.name};
  if (target.mode != Mode::kLive) co_return report;
  const Filter all(target.manifest, "");
  auto source_count = co_await count(store, source, all);
  auto target_count = co_await count(store, destination, all);
  if (!source_count || !target_count) {
    report.failure = "cannot count for validation: " +
                     describe_failure(!source_count ? source_count.error() : target_count.error());
    co_return report;
  }
  report.figures.emplace_back("sourceCount", *source_count);
  report.figures.emplace_back("targetCount", *target_count);
  if (*target_count < *source_count) {
    report.failure = "target " + copy.name + " has " + std::to_string(*target_count) +
                     " documents, source " + target.spec.name + " " +
                     std::to_string(*source_count) +
                     ": copies are missing (rerun: it is idempotent)";
    co_return report;
  }
  if (copy.sample_size == 0) co_return report;
  cosmos::QueryRequest sample_request{
      .container = source,
      .query = "SELECT * FROM c" + (all.where.empty() ? "" : " WHERE " + all.where),
      .parameters_json = all.parameters_json(),
      .max_item_count = static_cast<int>(copy.sample_size)};
  auto sample = co_await store.query_documents(sample_request);
  if (!sample) {
    report.failure = "cannot read the sample: " + describe_failure(sample.error());
    co_return report;
  }
  const rapidjson::Pointer key_pointer(copy.partition_key_path.c_str());
  std::uint64_t compared = 0;
  std::uint64_t mismatches = 0;
  std::string first_mismatch;
  for (auto& original : sample->documents().GetArray()) {
    if (compared >= copy.sample_size) break;
    const auto id = common::string_member(original, "id");
    const rapidjson::Value* key = key_pointer.Get(original);
    if (!id || key == nullptr || key->IsNull()) continue;  // not copied: counted in the run
    ++compared;
    auto copied = co_await store.read_document(destination, *id, cosmos::PartitionKey::of(*key));
    bool same = false;
    if (copied) {
      strip_system_properties(original);
      strip_system_properties(copied->document);
      same = original == copied->document;
    }
    if (!same) {
      ++mismatches;
      if (first_mismatch.empty()) first_mismatch = std::string(*id);
    }
  }
  report.figures.emplace_back("sampleCompared", compared);
  report.figures.emplace_back("sampleMismatches", mismatches);
  if (mismatches > 0) {
    report.failure = std::to_string(mismatches) + " of " + std::to_string(compared) +
                     " sampled copies differ from their source (first: " + first_mismatch + ")";
  }
  co_return report;
}

net::awaitable<CheckReport> verify_after(cosmos::DocumentStore& store,
                                         const CheckTarget& target,
                                         const Counts& counts) {
  CheckReport report;
  const auto& spec = target.spec;
  std::string findings;
  auto note = [&](const std::string& what) { findings += (findings.empty() ? "" : "; ") + what; };
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const std::string& field = spec.fields[i];
    const std::string ref = field_ref(field);
    Filter filter(target.manifest, "IS_DEFINED(" + ref + ") AND NOT IS_NULL(" + ref +
                                       ") AND NOT IS_DEFINED(" + ref + "[\"__encrypted\"])");
    if (!spec.skip_owners.empty()) {
      filter.where += " AND NOT ARRAY_CONTAINS(@skipOwners, " + field_ref(spec.user_id_field) + ")";
      rapidjson::Value owners(rapidjson::kArrayType);
      for (const auto& owner : spec.skip_owners) {
        owners.PushBack(rapidjson::Value(owner.c_str(), filter.parameters.GetAllocator()),
                        filter.parameters.GetAllocator());
      }
      filter.add("@skipOwners", std::move(owners));
    }
    const cosmos::ContainerRef container{target.database, spec.name};
    auto plaintext = co_await count(store, container, filter);
    if (!plaintext) {
      report.failure =
          "plaintext count of " + field + " failed: " + describe_failure(plaintext.error());
      co_return report;
    }
    const FieldCounts scanned = i < counts.fields.size() ? counts.fields[i] : FieldCounts{};
    report.figures.emplace_back("plaintext." + field, *plaintext);
    report.figures.emplace_back("undecryptable." + field, scanned.errors);
    std::string found;
    auto add = [&](std::uint64_t count, std::string_view what) {
      if (count == 0) return;
      found += (found.empty() ? "" : ", ") + std::to_string(count) + " " + std::string(what);
    };
    add(*plaintext, "plaintext");
    // The query sees every document; the scan only those with a usable key and owner.
    if (scanned.left > *plaintext) add(scanned.left, "plaintext seen by the scan");
    add(scanned.errors, "undecryptable");
    if (!found.empty()) note(field + ": " + found);
  }
  if (!findings.empty()) report.failure = "verification failed: " + findings;
  co_return report;
}

}  // namespace

net::awaitable<cosmos::Result<std::uint64_t>> count_documents(cosmos::DocumentStore& store,
                                                              const cosmos::ContainerRef& container,
                                                              const std::string& where,
                                                              const std::string& parameters_json) {
  auto ranges = co_await store.read_partition_key_ranges(container);
  if (!ranges) co_return common::Unexpected{std::move(ranges.error())};
  std::uint64_t total = 0;
  for (const cosmos::PartitionKeyRange& range : *ranges) {
    cosmos::QueryRequest request{
        .container = container,
        .query = "SELECT VALUE COUNT(1) FROM c" + (where.empty() ? "" : " WHERE " + where),
        .parameters_json = parameters_json,
        .max_item_count = 100,
        .partition_key_range_id = range.id};
    do {
      auto page = co_await store.query_documents(request);
      if (!page) co_return common::Unexpected{std::move(page.error())};
      for (const auto& value : page->documents().GetArray()) {
        if (value.IsUint64()) total += value.GetUint64();
      }
      request.continuation = page->continuation;
    } while (!request.continuation.empty());
  }
  co_return total;
}

net::awaitable<CheckReport> check_before_run(cosmos::DocumentStore& store, CheckTarget target) {
  const std::string_view kind = target.manifest.kind;
  if (kind == migrations::kRemoveFieldKind) co_return co_await remove_field_before(store, target);
  if (kind == migrations::kCopyContainerKind) co_return co_await copy_before(store, target);
  co_return CheckReport{};
}

net::awaitable<CheckReport> check_after_run(cosmos::DocumentStore& store,
                                            CheckTarget target,
                                            const Counts& counts) {
  const std::string_view kind = target.manifest.kind;
  if (kind == migrations::kVerifyKind) co_return co_await verify_after(store, target, counts);
  if (kind == migrations::kCopyContainerKind) co_return co_await copy_after(store, target);
  co_return CheckReport{};
}

net::awaitable<RunOutcome> run_with_checks(cosmos::DocumentStore& store,
                                           ContainerRunner& runner,
                                           const CheckTarget& target,
                                           CheckReport& checks) {
  // A check whose request was still being retried when the run was interrupted (pause, stop,
  // shutdown) did not fail: the job stops here and runs its checks again when it resumes.
  const auto ended = [&](std::string failure) {
    return runner.interrupted()
               ? RunOutcome{RunStatus::kStopped, "interrupted during the checks: " + failure}
               : RunOutcome{RunStatus::kFailed, std::move(failure)};
  };
  checks = co_await check_before_run(store, target);
  if (!checks.failure.empty()) co_return ended(checks.failure);
  RunOutcome outcome = co_await runner.run();
  if (outcome.status != RunStatus::kSucceeded) co_return outcome;
  CheckReport after = co_await check_after_run(store, target, runner.observed());
  checks.figures.insert(checks.figures.end(), after.figures.begin(), after.figures.end());
  checks.failure = std::move(after.failure);
  if (!checks.failure.empty()) outcome = ended(checks.failure);
  co_return outcome;
}

rapidjson::Value check_report_to_json(const CheckReport& report,
                                      rapidjson::Document::AllocatorType& allocator) {
  rapidjson::Value json(rapidjson::kObjectType);
  rapidjson::Value figures(rapidjson::kObjectType);
  for (const auto& [name, value] : report.figures) {
    figures.AddMember(rapidjson::Value(name.c_str(), allocator), rapidjson::Value(value),
                      allocator);
  }
  json.AddMember("figures", figures, allocator);
  json.AddMember("failure",
                 report.failure.empty() ? rapidjson::Value()
                                        : rapidjson::Value(report.failure.c_str(), allocator),
                 allocator);
  return json;
}

CheckReport check_report_from_json(const rapidjson::Value& json) {
  CheckReport report;
  if (const auto* figures = common::find_member(json, "figures"); figures && figures->IsObject()) {
    for (const auto& member : figures->GetObject()) {
      if (member.value.IsUint64()) {
        report.figures.emplace_back(member.name.GetString(), member.value.GetUint64());
      }
    }
  }
  report.failure = std::string(common::string_member(json, "failure").value_or(""));
  return report;
}

}  // namespace backfilld::engine
