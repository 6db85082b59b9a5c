#pragma once
/// The knobs of a run, read at every batch so an operator's change applies at the next one.
#include <cstdint>
#include <optional>
#include <string_view>

namespace backfilld::engine {

/// How rewritten documents go back to the store; every mode keeps per-document If-Match.
enum class WriteMode {
  kAuto,    ///< bulk when the container has one partition key range, else batch
  kBatch,   ///< transactional batches per partition key value; a lone document goes single
  kBulk,    ///< non-atomic batches per partition key range, as the SDKs' bulk mode sends them
  kSingle,  ///< one conditional PUT per document
};

std::string_view to_string(WriteMode mode);
/// "auto", "batch", "bulk" or "single".
std::optional<WriteMode> parse_write_mode(std::string_view text);

struct RunSettings {
  std::uint32_t batch_size = 50;            ///< documents per query page
  std::uint32_t write_concurrency = 16;     ///< concurrent write requests within a batch
  int max_conflict_retries = 5;             ///< 412 re-read rounds before a document is an error
  double max_documents_per_second = 0;      ///< 0: unlimited
  double max_request_units_per_second = 0;  ///< 0: unlimited
  WriteMode write_mode = WriteMode::kAuto;
};

}  // namespace backfilld::engine
