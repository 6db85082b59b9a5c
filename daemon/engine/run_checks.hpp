#pragma once
/// Kind-specific checks around a container run, by query: what must hold before the first batch
/// (remove-field's precondition, copy-container's target) and what is validated after the last
/// (verify's plaintext count, copy-container's counts and sample). Both the run command and the
/// job manager call them around ContainerRunner::run().
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/counts.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

/// Named figures ("plaintext.body" -> 0, "targetCount" -> 120) and, when a check failed, why.
struct CheckReport {
  std::vector<std::pair<std::string, std::uint64_t>> figures;
  std::string failure;  ///< empty: passed

  bool operator==(const CheckReport&) const = default;
};

/// What a check looks at.
struct CheckTarget {
  const migrations::Manifest& manifest;
  const migrations::ContainerSpec& spec;
  std::string database;
  migrations::Mode mode;
};

/// Before the first batch (and again on every resume; each step is idempotent):
/// - remove-field, live: counts the documents that have `field` but lack `requireField`; any
///   such document fails the run before it writes ("refused"). A dry run records the figure and
///   goes on (the transform counts each such document as an error).
/// - copy-container, live: creates the target container when the manifest asks; records the
///   target's document count before the copy (a query, which also proves the target exists).
net::awaitable<CheckReport> check_before_run(cosmos::DocumentStore& store, CheckTarget target);

/// After the last batch:
/// - verify: counts plaintext values per field with a query (productId filter, skipOwners
///   excluded) and fails when that count or the scan's undecryptable or plaintext values are
///   not all zero.
/// - copy-container, live: counts source and target (same productId filter) and fails when the
///   target holds fewer; compares up to target.sampleSize documents of the source with their
///   copies (system properties aside) and fails on any difference.
net::awaitable<CheckReport> check_after_run(cosmos::DocumentStore& store,
                                            CheckTarget target,
                                            const Counts& counts);

/// What every job does: check_before_run, `runner.run()`, then check_after_run when it
/// succeeded. A failed check fails the outcome with its reason; `checks` gets both reports.
net::awaitable<RunOutcome> run_with_checks(cosmos::DocumentStore& store,
                                           ContainerRunner& runner,
                                           const CheckTarget& target,
                                           CheckReport& checks);

/// Counts the documents of `container` matching `where` ("" for all), range by range (the
/// gateway serves no cross-partition aggregates). `parameters_json` is a JSON array.
net::awaitable<cosmos::Result<std::uint64_t>> count_documents(cosmos::DocumentStore& store,
                                                              const cosmos::ContainerRef& container,
                                                              const std::string& where,
                                                              const std::string& parameters_json);

/// JSON {"figures": {name: n, ...}, "failure": "..."|null}.
rapidjson::Value check_report_to_json(const CheckReport& report,
                                      rapidjson::Document::AllocatorType& allocator);
CheckReport check_report_from_json(const rapidjson::Value& json);

}  // namespace backfilld::engine
