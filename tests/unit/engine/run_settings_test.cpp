#include "daemon/engine/run_settings.hpp"

#include <doctest/doctest.h>

#include <limits>

namespace backfilld::engine {
namespace {

std::string refusal(const KnobPatch& patch) {
  auto valid = validate(patch);
  REQUIRE_FALSE(valid.ok());
  CHECK(valid.error().code == "invalid_request");
  return valid.error().message;
}

TEST_CASE("knob ranges: one rule, errors name the field as the API spells it") {
  CHECK(validate(KnobPatch{}).ok());
  CHECK(validate(KnobPatch{.batch_size = 1, .write_concurrency = 1}).ok());
  CHECK(validate(KnobPatch{.batch_size = kMaxBatchSize, .write_concurrency = kMaxWriteConcurrency})
            .ok());
  CHECK(
      validate(KnobPatch{.max_documents_per_second = 0, .max_request_units_per_second = 0.5}).ok());
  CHECK(refusal(KnobPatch{.batch_size = 0}) == "batchSize: must be an integer from 1 to 1000");
  CHECK(refusal(KnobPatch{.batch_size = kMaxBatchSize + 1}) ==
        "batchSize: must be an integer from 1 to 1000");
  CHECK(refusal(KnobPatch{.write_concurrency = 0}) ==
        "writeConcurrency: must be an integer from 1 to 256");
  CHECK(refusal(KnobPatch{.write_concurrency = 257}) ==
        "writeConcurrency: must be an integer from 1 to 256");
  CHECK(refusal(KnobPatch{.max_documents_per_second = -1}) ==
        "maxDocumentsPerSecond: must be 0 (no limit) or more");
}

TEST_CASE("knob ranges: NaN and infinite rates are refused (a '< 0' check lets NaN through)") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(refusal(KnobPatch{.max_documents_per_second = nan}) ==
        "maxDocumentsPerSecond: must be 0 (no limit) or more");
  CHECK(refusal(KnobPatch{.max_request_units_per_second = nan}) ==
        "maxRequestUnitsPerSecond: must be 0 (no limit) or more");
  CHECK(refusal(KnobPatch{.max_documents_per_second = inf}).starts_with("maxDocumentsPerSecond"));
  RunSettings settings;
  settings.max_request_units_per_second = -inf;
  CHECK_FALSE(validate(settings).ok());
}

TEST_CASE("apply changes only the knobs a patch sets") {
  RunSettings before;
  before.batch_size = 7;
  before.max_documents_per_second = 3;
  const RunSettings after =
      apply(before, KnobPatch{.write_concurrency = 4, .write_mode = WriteMode::kSingle});
  CHECK(after.batch_size == 7);
  CHECK(after.max_documents_per_second == 3);
  CHECK(after.write_concurrency == 4);
  CHECK(after.write_mode == WriteMode::kSingle);
}

}  // namespace
}  // namespace backfilld::engine
