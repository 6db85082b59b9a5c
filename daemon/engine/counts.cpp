#include "daemon/engine/counts.hpp"

#include "daemon/common/json.hpp"

namespace backfilld::engine {
namespace {

using migrations::FieldOutcome;
using migrations::Outcome;

rapidjson::Value string_value(std::string_view text,
                              rapidjson::Document::AllocatorType& allocator) {
  return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), allocator);
}

std::uint64_t uint_member(const rapidjson::Value& json, std::string_view name) {
  const rapidjson::Value* member = common::find_member(json, name);
  return member != nullptr && member->IsUint64() ? member->GetUint64() : 0;
}

}  // namespace

void Counts::add(const migrations::TransformResult& result) {
  ++scanned;
  switch (result.outcome) {
    case Outcome::kRewritten:
      ++rewritten;
      break;
    case Outcome::kUnchanged:
      ++skipped;
      break;
    case Outcome::kError:
      ++errors;
      break;
    case Outcome::kOwnerMismatch:
      ++owner_mismatch;
      break;
    case Outcome::kMissingPartitionKey:
      ++missing_partition_key;
      break;
  }
  for (std::size_t i = 0; i < result.fields.size() && i < fields.size(); ++i) {
    switch (result.fields[i]) {
      case FieldOutcome::kRewritten:
        ++fields[i].rewritten;
        break;
      case FieldOutcome::kSkipped:
        ++fields[i].skipped;
        break;
      case FieldOutcome::kError:
        ++fields[i].errors;
        break;
      case FieldOutcome::kLeft:
        ++fields[i].left;
        break;
      case FieldOutcome::kUntouched:
        break;
    }
  }
}

void Counts::add_write_failure(const migrations::TransformResult& result) {
  ++scanned;
  ++errors;
  for (std::size_t i = 0; i < result.fields.size() && i < fields.size(); ++i) {
    if (result.fields[i] == FieldOutcome::kRewritten) {
      ++fields[i].errors;
    } else if (result.fields[i] == FieldOutcome::kSkipped) {
      ++fields[i].skipped;
    } else if (result.fields[i] == FieldOutcome::kLeft) {
      ++fields[i].left;
    }
  }
}

Counts& Counts::operator+=(const Counts& other) {
  scanned += other.scanned;
  rewritten += other.rewritten;
  skipped += other.skipped;
  errors += other.errors;
  owner_mismatch += other.owner_mismatch;
  missing_partition_key += other.missing_partition_key;
  if (fields.size() < other.fields.size()) fields.resize(other.fields.size());
  for (std::size_t i = 0; i < other.fields.size(); ++i) {
    fields[i].rewritten += other.fields[i].rewritten;
    fields[i].skipped += other.fields[i].skipped;
    fields[i].errors += other.fields[i].errors;
    fields[i].left += other.fields[i].left;
  }
  return *this;
}

std::string Counts::crossed(const migrations::StopCriteria& stop) const {
  auto describe = [](std::string_view name, std::uint64_t count, std::string_view limit_name,
                     std::uint64_t limit) {
    return std::string(name) + " " + std::to_string(count) + " > " + std::string(limit_name) + " " +
           std::to_string(limit);
  };
  if (errors > stop.max_errors) return describe("errors", errors, "maxErrors", stop.max_errors);
  if (owner_mismatch > stop.max_owner_mismatch) {
    return describe("ownerMismatch", owner_mismatch, "maxOwnerMismatch", stop.max_owner_mismatch);
  }
  if (missing_partition_key > stop.max_missing_partition_key) {
    return describe("missingPartitionKey", missing_partition_key, "maxMissingPartitionKey",
                    stop.max_missing_partition_key);
  }
  return {};
}

rapidjson::Value counts_to_json(const Counts& counts,
                                const std::vector<std::string>& field_names,
                                std::string_view rewritten_name,
                                rapidjson::Document::AllocatorType& allocator,
                                std::string_view left_name) {
  rapidjson::Value json(rapidjson::kObjectType);
  json.AddMember("scanned", counts.scanned, allocator);
  json.AddMember(string_value(rewritten_name, allocator), rapidjson::Value(counts.rewritten),
                 allocator);
  json.AddMember("skipped", counts.skipped, allocator);
  json.AddMember("errors", counts.errors, allocator);
  json.AddMember("ownerMismatch", counts.owner_mismatch, allocator);
  json.AddMember("missingPartitionKey", counts.missing_partition_key, allocator);
  rapidjson::Value fields(rapidjson::kObjectType);
  for (std::size_t i = 0; i < field_names.size() && i < counts.fields.size(); ++i) {
    rapidjson::Value field(rapidjson::kObjectType);
    field.AddMember(string_value(rewritten_name, allocator),
                    rapidjson::Value(counts.fields[i].rewritten), allocator);
    field.AddMember("skipped", counts.fields[i].skipped, allocator);
    field.AddMember("errors", counts.fields[i].errors, allocator);
    if (!left_name.empty()) {
      field.AddMember(string_value(left_name, allocator), rapidjson::Value(counts.fields[i].left),
                      allocator);
    }
    fields.AddMember(string_value(field_names[i], allocator), field, allocator);
  }
  json.AddMember("fields", fields, allocator);
  return json;
}

Counts counts_from_json(const rapidjson::Value& json,
                        const std::vector<std::string>& field_names,
                        std::string_view rewritten_name,
                        std::string_view left_name) {
  Counts counts(field_names.size());
  counts.scanned = uint_member(json, "scanned");
  counts.rewritten = uint_member(json, rewritten_name);
  counts.skipped = uint_member(json, "skipped");
  counts.errors = uint_member(json, "errors");
  counts.owner_mismatch = uint_member(json, "ownerMismatch");
  counts.missing_partition_key = uint_member(json, "missingPartitionKey");
  if (const rapidjson::Value* fields = common::find_member(json, "fields")) {
    for (std::size_t i = 0; i < field_names.size(); ++i) {
      if (const rapidjson::Value* field = common::find_member(*fields, field_names[i])) {
        counts.fields[i] = FieldCounts{
            uint_member(*field, rewritten_name), uint_member(*field, "skipped"),
            uint_member(*field, "errors"), left_name.empty() ? 0 : uint_member(*field, left_name)};
      }
    }
  }
  return counts;
}

}  // namespace backfilld::engine
