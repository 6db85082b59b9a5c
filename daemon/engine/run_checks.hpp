#pragma once
/// The kind's checks around a container run (Kind::before_scan, Kind::after_scan in
/// migrations/kind.hpp): what must hold before the first batch and what is validated after the
/// last. Both the run command and the job manager call them around ContainerRunner::run().
#include "daemon/common/asio.hpp"
#include "daemon/cosmos/document_store.hpp"
#include "daemon/engine/container_runner.hpp"
#include "daemon/engine/counts.hpp"
#include "migrations/kind_checks.hpp"
#include "migrations/manifest.hpp"
#include "migrations/transform.hpp"

namespace backfilld::engine {

using migrations::CheckReport;
using migrations::CheckTarget;
using migrations::count_documents;

/// Before the first batch (and again on every resume): the kind's Kind::before_scan.
net::awaitable<CheckReport> check_before_run(cosmos::DocumentStore& store, CheckTarget target);

/// After the last batch: the kind's Kind::after_scan.
net::awaitable<CheckReport> check_after_run(cosmos::DocumentStore& store,
                                            CheckTarget target,
                                            const Counts& counts);

/// What every job does: check_before_run, `runner.run()`, then check_after_run when it
/// succeeded. A failed check fails the outcome with its reason; `checks` gets both reports.
net::awaitable<RunOutcome> run_with_checks(cosmos::DocumentStore& store,
                                           ContainerRunner& runner,
                                           const CheckTarget& target,
                                           CheckReport& checks);

/// JSON {"figures": {name: n, ...}, "failure": "..."|null}.
rapidjson::Value check_report_to_json(const CheckReport& report,
                                      rapidjson::Document::AllocatorType& allocator);
CheckReport check_report_from_json(const rapidjson::Value& json);

}  // namespace backfilld::engine
