#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs and builds (deploy/setup.sh), runs
# unit, interop and integration tests (the integration ones start the local Cosmos server on a
# free port), then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the
# same tests there. Safe to run twice.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

"$root/deploy/setup.sh" "$root/build"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"

"$root/deploy/setup.sh" "$root/build-asan" -DBACKFILLD_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs"
