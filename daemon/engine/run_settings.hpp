#pragma once
/// The knobs of a run, read at every batch so an operator's change applies at the next one.
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/common/result.hpp"

namespace backfilld::engine {

/// How rewritten documents go back to the store; every mode keeps per-document If-Match.
enum class WriteMode {
  kAuto,    ///< bulk when documents can be routed to their range (by EPK), else batch
  kBatch,   ///< transactional batches per partition key value; a lone document goes single
  kBulk,    ///< non-atomic batches per partition key range, as the SDKs' bulk mode sends them
  kSingle,  ///< one conditional PUT per document
};

std::string_view to_string(WriteMode mode);
/// "auto", "batch", "bulk" or "single".
std::optional<WriteMode> parse_write_mode(std::string_view text);

/// The knobs' allowed ranges: the manifest, the command line, a submission and PATCH all check
/// them through validate() below.
inline constexpr std::uint32_t kMaxBatchSize = 1000;
inline constexpr std::uint32_t kMaxWriteConcurrency = 256;
inline constexpr std::uint32_t kMaxRangeConcurrency = 64;

struct RunSettings {
  std::uint32_t batch_size = 50;            ///< documents per query page
  std::uint32_t write_concurrency = 16;     ///< concurrent write requests within a batch
  std::uint32_t range_concurrency = 4;      ///< partition key ranges scanned at once
  int max_conflict_retries = 5;             ///< 412 re-read rounds before a document is an error
  double max_documents_per_second = 0;      ///< 0: unlimited
  double max_request_units_per_second = 0;  ///< 0: unlimited
  /// The share of the container's provisioned throughput the job may spend (0: none), divided
  /// among its ranges as the service divides it.
  double max_throughput_fraction = 0;
  WriteMode write_mode = WriteMode::kAuto;
};

/// A change of some knobs (PATCH, a submission's knobs, command-line flags): only those set
/// change, at the next batch.
struct KnobPatch {
  std::optional<std::uint32_t> batch_size = {};
  std::optional<std::uint32_t> write_concurrency = {};
  std::optional<double> max_documents_per_second = {};
  std::optional<double> max_request_units_per_second = {};
  std::optional<WriteMode> write_mode = {};
  std::optional<std::uint32_t> range_concurrency = {};
  std::optional<double> max_throughput_fraction = {};
};

/// The one check of knob ranges. The error (code invalid_request) names the field as the API
/// spells it: "batchSize: must be an integer from 1 to 1000". Rates must be finite and not
/// negative: NaN, which a command-line "nan" parses to, compares false with every bound.
common::Result<void> validate(const KnobPatch& patch);
/// validate() of every knob of `settings`.
common::Result<void> validate(const RunSettings& settings);
/// `settings` with the knobs `patch` sets replaced.
RunSettings apply(RunSettings settings, const KnobPatch& patch);

}  // namespace backfilld::engine
