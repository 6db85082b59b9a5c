#!/usr/bin/env bash
# End to end: a real Prometheus (Debian's `prometheus`) scrapes `backfilld serve` every second
# while the daemon runs a dry run and a live encryption job against the local Cosmos server; then
# check_promql.mjs evaluates every dashboard query and alert rule through Prometheus's HTTP API
# (and must reject a broken dashboard). The daemon runs on a read-only root filesystem with only
# its state directory writable, as in the chart, and exits 0 on SIGTERM.
#
#   prometheus_test.sh BACKFILLD SOURCE_DIR COSMOS_STATE_DIR
set -euo pipefail

(($# == 3)) || { echo "usage: $(basename "$0") BACKFILLD SOURCE_DIR COSMOS_STATE_DIR" >&2; exit 2; }
backfilld="$(realpath "$1")"
src="$(realpath "$2")"
state="$(realpath "$3")"
for tool in prometheus jq; do
  command -v "$tool" >/dev/null || { echo "$tool not found: run deploy/setup.sh" >&2; exit 1; }
done
"$src/deploy/tools/install.sh" >/dev/null # the yaml parser check_promql.mjs reads the rules with
"$src/deploy/local/cosmos.sh" wait "$state" >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/backfilld-prometheus.XXXXXX")"
db="prometheus-$(openssl rand -hex 4)"
pids=()
finish() {
  local rc=$? pid
  "$src/tests/governor/prometheus.sh" stop "$work/prom" >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((rc == 0)) && [[ -z "${E2E_KEEP:-}" ]]; then rm -rf "$work"; else echo "prometheus test: kept $work (database $db)" >&2; fi
  exit "$rc"
}
trap finish EXIT
log() { echo "prometheus test [${SECONDS}s]: $*" >&2; }
fail() {
  log "FAIL: $*"
  for file in daemon.log prom/prometheus.log; do [[ -f "$work/$file" ]] && { echo "--- $file" >&2; tail -n 20 "$work/$file" >&2; }; done
  exit 1
}

endpoint="$(<"$state/endpoint")"
ca="$state/cert.pem"
source "$src/tests/e2e/backfilld_env.sh"
backfilld_env "$endpoint" "$ca" "$db" "$work/keyring.json"
export BACKFILLD_API_TOKEN="$(openssl rand -hex 16)"
unset BACKFILLD_API_TOKEN_FILE
(umask 077 && printf '{"primary": "k1", "keys": {"k1": "%s"}}\n' "$(openssl rand -base64 32)" >"$FIELD_ENCRYPT_KEYRING_FILE")

"$src/deploy/local/cosmos.sh" notelett "$state" "$db" >/dev/null
node "$src/deploy/local/seed.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" \
  --per-container 120 --expect-out "$work/expect.json" >/dev/null 2>&1 || fail "seed"
node "$src/tests/e2e/make_manifest.mjs" --base "$src/migrations/notelett/encrypt-fields.json" \
  --expect "$work/expect.json" --out "$work/manifest.json" --stop raised >/dev/null

# The daemon runs as the chart runs it, with a read-only root filesystem and only its state
# directory writable: every mount read-only in a user and mount namespace of its own (where the
# kernel allows unprivileged ones; otherwise the test says so and runs it plainly).
mkdir -p "$work/state"
read_only=(unshare --user --map-root-user --mount bash -c 'mount --bind "$0" "$0" &&
  findmnt -rn -o TARGET | grep -vxF "$0" | grep -v "^/proc\|^/sys\|^/dev" |
  while read -r m; do mount -o remount,bind,ro "$m" 2>/dev/null || true; done && exec "$@"' "$work/state")
if "${read_only[@]}" bash -c "touch '$work/state/probe' && ! touch '$work/probe' 2>/dev/null && ! touch /tmp/backfilld-probe-\$\$ 2>/dev/null"; then
  rm -f "$work/state/probe"
  log "daemon on a read-only root, only $work/state writable"
else
  read_only=()
  log "no unprivileged mount namespace here: the daemon runs on a writable root"
fi
"${read_only[@]}" "$backfilld" serve --listen 127.0.0.1:0 --state-dir "$work/state" --environment e2e >"$work/daemon.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 20))
until port="$(grep -oE 'serving on port [0-9]+' "$work/daemon.log" | grep -oE '[0-9]+$')"; do
  kill -0 "${pids[0]}" 2>/dev/null || fail "daemon exited at start"
  ((SECONDS < deadline)) || fail "daemon did not start"
  sleep 0.05
done
base="http://127.0.0.1:$port"

# The suite's Prometheus (tests/governor/prometheus.sh): a free port, 1 s scrapes with honor_labels
# (the daemon's container="<Cosmos container>" label, as the chart's ServiceMonitor sets it), the
# alert rules loaded; it returns once the daemon has been scraped.
"$src/tests/governor/prometheus.sh" start "$work/prom" --scrape "backfilld=127.0.0.1:$port" \
  --rule-file "$src/deploy/prometheus/alerts.yml" >/dev/null || fail "prometheus did not start or scrape the daemon"
prom="$(<"$work/prom/prometheus-url")"
log "daemon on $base, prometheus on $prom scraping it every second"
start="$(date +%s)"

auth="Authorization: Bearer $BACKFILLD_API_TOKEN"
submit() { # submit DRY_RUN KNOBS -> the job id
  curl -sSf -H "$auth" -H 'Content-Type: application/json' --data-binary \
    "$(jq -c --argjson dry "$1" --argjson knobs "$2" '{manifest: ., dryRun: $dry, container: "note_prompts",
       operator: "e2e", backupConfirmed: "pitr-e2e", knobs: $knobs}' "$work/manifest.json")" \
    "$base/v1/jobs" | jq -r '.jobs[0]'
}
wait_done() { # wait_done ID TIMEOUT
  local deadline=$((SECONDS + $2)) job_state
  until job_state="$(curl -sSf -H "$auth" "$base/v1/jobs/$1" | jq -r .state)" && [[ "$job_state" == succeeded ]]; do
    [[ "$job_state" == failed || "$job_state" == stopped ]] && fail "job $1 $job_state"
    ((SECONDS < deadline)) || fail "job $1 not done in $2 s ($job_state)"
    sleep 0.2
  done
}
dry="$(submit true '{}')"
wait_done "$dry" 30
# Paced so that Prometheus scrapes the live job while it runs (several samples for rate()).
live="$(submit false '{"batchSize": 10, "maxDocumentsPerSecond": 30}')"
wait_done "$live" 60
log "dry run $dry and live run $live succeeded"
# Two more scrapes, so that the final values are in.
sleep 2.5

node "$src/tests/deploy/check_promql.mjs" --prometheus "$prom" --dashboard "$src/deploy/grafana/backfilld.json" \
  --rules "$src/deploy/prometheus/alerts.yml" --job "$live" --start "$start" || fail "queries"
# The checker itself: a panel without series and a query Prometheus rejects must fail it.
for broken in 'backfilld_no_such_metric{job=~"$job"}' 'sum by (job (backfilld_up)'; do
  jq --arg expr "$broken" '.panels[0].targets[0].expr = $expr' "$src/deploy/grafana/backfilld.json" >"$work/broken.json"
  if node "$src/tests/deploy/check_promql.mjs" --prometheus "$prom" --dashboard "$work/broken.json" \
    --rules "$src/deploy/prometheus/alerts.yml" --job "$live" --start "$start" >"$work/broken.out"; then
    fail "check_promql.mjs passed a dashboard with: $broken"
  fi
  grep -q '^FAIL panel' "$work/broken.out" || fail "check_promql.mjs: no FAIL line for $broken"
done
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "daemon exit code $? after SIGTERM"
pids=("${pids[@]:1}")
log "passed"
