#include "daemon/engine/run_settings.hpp"

#include <cmath>
#include <string>

namespace backfilld::engine {

std::string_view to_string(WriteMode mode) {
  switch (mode) {
    case WriteMode::kAuto:
      return "auto";
    case WriteMode::kBatch:
      return "batch";
    case WriteMode::kBulk:
      return "bulk";
    case WriteMode::kSingle:
      return "single";
  }
  return "auto";
}

std::optional<WriteMode> parse_write_mode(std::string_view text) {
  for (WriteMode mode :
       {WriteMode::kAuto, WriteMode::kBatch, WriteMode::kBulk, WriteMode::kSingle}) {
    if (text == to_string(mode)) return mode;
  }
  return std::nullopt;
}

common::Result<void> validate(const KnobPatch& patch) {
  auto invalid = [](std::string_view field, std::string_view rule) {
    return common::fail("invalid_request", std::string(field) + ": " + std::string(rule));
  };
  if (patch.batch_size && (*patch.batch_size < 1 || *patch.batch_size > kMaxBatchSize)) {
    return invalid("batchSize", "must be an integer from 1 to " + std::to_string(kMaxBatchSize));
  }
  if (patch.write_concurrency &&
      (*patch.write_concurrency < 1 || *patch.write_concurrency > kMaxWriteConcurrency)) {
    return invalid("writeConcurrency",
                   "must be an integer from 1 to " + std::to_string(kMaxWriteConcurrency));
  }
  if (patch.range_concurrency &&
      (*patch.range_concurrency < 1 || *patch.range_concurrency > kMaxRangeConcurrency)) {
    return invalid("rangeConcurrency",
                   "must be an integer from 1 to " + std::to_string(kMaxRangeConcurrency));
  }
  for (const auto& [field, rate] :
       {std::pair{"maxDocumentsPerSecond", patch.max_documents_per_second},
        std::pair{"maxRequestUnitsPerSecond", patch.max_request_units_per_second}}) {
    if (rate && !(std::isfinite(*rate) && *rate >= 0)) {
      return invalid(field, "must be 0 (no limit) or more");
    }
  }
  if (patch.max_throughput_fraction &&
      !(*patch.max_throughput_fraction >= 0 && *patch.max_throughput_fraction <= 1)) {
    return invalid("maxThroughputFraction", "must be from 0 (no limit) to 1");
  }
  return {};
}

common::Result<void> validate(const RunSettings& settings) {
  return validate(KnobPatch{settings.batch_size, settings.write_concurrency,
                            settings.max_documents_per_second,
                            settings.max_request_units_per_second, settings.write_mode,
                            settings.range_concurrency, settings.max_throughput_fraction});
}

RunSettings apply(RunSettings settings, const KnobPatch& patch) {
  if (patch.batch_size) settings.batch_size = *patch.batch_size;
  if (patch.write_concurrency) settings.write_concurrency = *patch.write_concurrency;
  if (patch.max_documents_per_second) {
    settings.max_documents_per_second = *patch.max_documents_per_second;
  }
  if (patch.max_request_units_per_second) {
    settings.max_request_units_per_second = *patch.max_request_units_per_second;
  }
  if (patch.write_mode) settings.write_mode = *patch.write_mode;
  if (patch.range_concurrency) settings.range_concurrency = *patch.range_concurrency;
  if (patch.max_throughput_fraction) {
    settings.max_throughput_fraction = *patch.max_throughput_fraction;
  }
  return settings;
}

}  // namespace backfilld::engine
