#!/usr/bin/env bash
# The performance benchmark (issue 8) in one command: builds backfilld, the null backend and the
# transform micro-benchmark, installs the local Cosmos server and the peer's SDK, then prints the
# tables (Markdown on stdout, progress on stderr). Not part of ctest.
#   tests/bench/run.sh [--notes 5000] [--scale 10000,1000000] [--peer DIR] [--page-size 1000]
#                      [--write-mode auto|batch|bulk|single] [--write-concurrency 16]
#                      [--parts local,scale,transform] [--ranges 1,4,8] [--latency-ms 20]
#                      [--ranges-page-size 100] [--ranges-documents 1000000]
# --ranges K1,K2,...: one more table, the null backend with K partition key ranges (its
# --ranges K) and --latency-ms added per request, the job asking for knobs.rangeConcurrency = K;
# e.g. only that table: tests/bench/run.sh --parts ranges --ranges 1,4,8
# BENCH_BUILD_DIR (default: build) picks the build tree; a missing one is set up by
# deploy/setup.sh (RelWithDebInfo).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build}
targets=(backfilld null_backend transform_bench)
if [[ ! -f $build/CMakeCache.txt ]]; then
  "$root/deploy/setup.sh" "${targets[@]/#/--target=}" "$build" >&2
fi
cmake --build "$build" -j"${BENCH_JOBS:-2}" --target "${targets[@]}" >&2
"$root/deploy/local/cosmos.sh" install
exec node "$root/tests/bench/bench.mjs" --source "$root" --build "$build" "$@"
