#!/usr/bin/env bash
# Installs what backfilld needs on a Debian machine and builds it. Safe to run twice: it installs
# only what is missing and rebuilds only what changed.
#   deploy/setup.sh [--target[=]NAME]... [BUILD_DIR] [extra cmake args...]   (default build dir: build)
# Without --target it builds everything (the test suite needs every test binary); with it, only
# the named targets and what they depend on (the demo: --target backfilld).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
targets=()
while [[ ${1:-} == --target || ${1:-} == --target=* ]]; do
  if [[ $1 == --target ]]; then target=${2:-} && shift $(($# > 1 ? 2 : 1)); else target=${1#--target=} && shift; fi
  [ -n "$target" ] || { echo "setup: --target needs a target name (e.g. backfilld)" >&2; exit 2; }
  targets+=("$target")
done
build_dir=${1:-$root/build}
shift || true

packages=(cmake make g++ ccache pkg-config libboost-dev libboost-system-dev libboost-program-options-dev
  libssl-dev rapidjson-dev prometheus-cpp-dev libspdlog-dev libfmt-dev doctest-dev
  openssl curl ca-certificates util-linux jq prometheus unzip tmux
  clang-14 libclang-rt-14-dev)  # the sanitizer build of tests/run.sh, with libFuzzer
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# The local Cosmos server needs Node 20 or newer; Debian's own nodejs is older, so an existing
# newer Node is kept and only a machine without any Node gets Debian's.
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node $(node --version) is too old; @vercel/cosmosdb-server needs Node 20 or newer" >&2
  exit 1
fi

"$root/deploy/local/cosmos.sh" install
"$root/deploy/tools/install.sh" >/dev/null # helm v4 for the chart tests

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
if ((${#targets[@]})); then
  cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}"
else
  cmake --build "$build_dir" -j"$(nproc)"
fi
