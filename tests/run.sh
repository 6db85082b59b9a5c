#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs and builds (deploy/setup.sh),
# compiles the files g++ 12 warned about only in Release with Release's flags, runs unit, interop
# and integration tests (the integration ones start the local Cosmos server on a free port), then
# builds again with clang, AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer coverage,
# and runs the same tests there plus the fuzz targets (tests/fuzz, 20 s each). Safe to run twice.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

"$root/deploy/setup.sh" "$root/build"
# The files g++ 12 warned about only at -O3, compiled with Release's flags (tests/CMakeLists.txt).
cmake --build "$root/build" -j"$jobs" --target release_warnings
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"

# -O1: the sanitizers' usual level, and much quicker to build than -O2.
"$root/deploy/setup.sh" "$root/build-asan" -DCMAKE_CXX_COMPILER=clang++-14 -DBACKFILLD_SANITIZE=ON \
  -DBACKFILLD_FUZZ=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs"
