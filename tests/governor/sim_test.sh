#!/usr/bin/env bash
# Issue 14's test world, proven end to end: the ranges layer (one range, 400 RU/s) in front of the
# local Cosmos server, the NoteLett application simulator (app_sim.mjs) writing and reading notes
# through it, and a real Prometheus (prometheus.sh) scraping the simulator every second.
#  1. Under the throughput (10 ops/s, ~60 RU/s): the simulator counts no 429, and Prometheus's
#     rate(app_throttled_total[10s]) / rate(app_requests_total[10s]) is 0.
#  2. Its rate raised live over it (POST /rate, 150 ops/s, 80 % writes, ~1,300 RU/s): 429s appear
#     in its metrics and the same query goes over 5 %, for at least 6 s of the layer's timeline.
#  3. The layer's usage endpoint (usage_report.mjs) agrees with the simulator's own counts:
#     requests, 429s and RU, all in the "other" class and none in "backfilld" (the simulator
#     retries a 429 once after the hint, so its counts include the retries); the seconds
#     before the raise hold no 429; the highest 5-s window stays near the throughput.
# Waits poll with deadlines; nothing sleeps for a fixed time to wait for something.
#
#   sim_test.sh SOURCE_DIR COSMOS_STATE_DIR
set -euo pipefail

(($# == 2)) || { echo "usage: $(basename "$0") SOURCE_DIR COSMOS_STATE_DIR" >&2; exit 2; }
src="$(realpath "$1")"
state="$(realpath "$2")"
for tool in prometheus jq curl node; do
  command -v "$tool" >/dev/null || { echo "$tool not found: run deploy/setup.sh" >&2; exit 1; }
done
"$src/deploy/local/cosmos.sh" wait "$state" >/dev/null
here="$src/tests/governor"
server="$(<"$state/endpoint")"
[[ -s "$state/server-endpoint" ]] && server="$(<"$state/server-endpoint")"
ca="$state/cert.pem"
work="$(mktemp -d "${TMPDIR:-/tmp}/backfilld-governor-sim.XXXXXX")"
db="governor-sim-$(openssl rand -hex 4)"
collection="dbs/$db/colls/notes"
throughput=400
pids=()

finish() {
  local rc=$? pid
  "$here/prometheus.sh" stop "$work/prom" >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((rc == 0)) && [[ -z "${E2E_KEEP:-}" ]]; then rm -rf "$work"; else echo "governor sim test: kept $work (database $db)" >&2; fi
  exit "$rc"
}
trap finish EXIT
log() { echo "governor sim test [${SECONDS}s]: $*" >&2; }
fail() {
  log "FAIL: $*"
  for file in layer.log sim.log prom/prometheus.log; do
    [[ -f "$work/$file" ]] && { echo "--- $file" >&2; tail -n 20 "$work/$file" >&2; }
  done
  exit 1
}
# wait_port FILE PID NAME: until FILE holds the port PID listens on.
wait_port() {
  local deadline=$((SECONDS + 30))
  until [[ -s "$1" ]]; do
    kill -0 "$2" 2>/dev/null || fail "$3 exited at start"
    ((SECONDS < deadline)) || fail "$3 did not start"
    sleep 0.05
  done
}

node "$src/deploy/local/admin.mjs" --endpoint "$server" --ca "$ca" create-db "$db" >/dev/null
node "$src/deploy/local/admin.mjs" --endpoint "$server" --ca "$ca" create-containers "$db" notes:/workspaceId >/dev/null

node "$src/deploy/local/ranges/layer.mjs" --upstream "$server" --cert "$state/cert.pem" --key "$state/key.pem" \
  --ranges 1 --throughput "$throughput" --port 0 --port-file "$work/layer.port" >"$work/layer.out" 2>"$work/layer.log" &
pids+=($!)
wait_port "$work/layer.port" "${pids[-1]}" "the ranges layer"
layer="https://127.0.0.1:$(<"$work/layer.port")"

node "$here/app_sim.mjs" --endpoint "$layer" --ca "$ca" --db "$db" --rate 10 --read-fraction 0.5 \
  --documents 60 --retries 1 --port 0 --port-file "$work/sim.port" >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
wait_port "$work/sim.port" "${pids[-1]}" "the simulator"
sim="http://127.0.0.1:$(<"$work/sim.port")"
"$here/prometheus.sh" start "$work/prom" --scrape "app=127.0.0.1:$(<"$work/sim.port")" >/dev/null ||
  fail "prometheus did not start"
log "layer $layer ($throughput RU/s, 1 range), simulator $sim, prometheus $(<"$work/prom/prometheus-url")"

# metric NAME: the sum of the simulator's samples of one metric family, from its own /metrics.
metric() {
  curl -sSf "$sim/metrics" | awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { print sum + 0 }'
}
# ratio: Prometheus's throttled fraction, or "none" while it has too few samples for rate().
ratio() {
  "$here/prometheus.sh" query "$work/prom" \
    'sum(rate(app_throttled_total[10s])) / sum(rate(app_requests_total[10s]))' | jq -r '.[0].value[1] // "none"'
}
set_rate() {
  curl -sSf -X POST -H 'Content-Type: application/json' -d "$1" "$sim/rate" >/dev/null || fail "POST /rate $1"
}
# until_true DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
until_true() {
  local what="$1" limit="$2" deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "not within ${limit}s: $what"
    sleep 0.2
  done
}

# 1. Under the throughput.
sent_at_least() { (($(metric app_requests_total) >= $1)); }
prom_ratio_is_zero() { local r; r="$(ratio)"; [[ "$r" != none ]] && awk -v r="$r" 'BEGIN { exit !(r == 0) }'; }
until_true "100 requests at 10 ops/s" 30 sent_at_least 100
until_true "Prometheus shows a throttled fraction of 0" 30 prom_ratio_is_zero
(($(metric app_throttled_total) == 0)) || fail "429s at 10 ops/s under $throughput RU/s: $(metric app_throttled_total)"
bad="$(curl -sSf "$sim/metrics" | grep '^app_requests_total' | grep -v 'status="20[01]"' || true)"
[[ -z "$bad" ]] || fail "requests that did not succeed at 10 ops/s: $bad"
low_requests="$(metric app_requests_total)"
log "10 ops/s: $low_requests requests, 0 throttled; Prometheus's throttled fraction: $(ratio)"

# 2. Over it.
raised_at="$(date +%s%3N)"
set_rate '{"rate": 150, "readFraction": 0.2}'
report() { node "$here/usage_report.mjs" --endpoint "$layer" --ca "$ca" --collection "$collection" "$@"; }
throttled_some() { (($(metric app_throttled_total) >= 50)); }
prom_ratio_over() { local r; r="$(ratio)"; [[ "$r" != none ]] && awk -v r="$r" 'BEGIN { exit !(r > 0.05) }'; }
# The load lasts until the layer's timeline holds 6 s of it (a 5-s window and more).
six_seconds_over() { report --since "$raised_at" | jq -e '.activeSpanMs >= 6000 and .throttled > 0' >/dev/null; }
until_true "50 429s at 150 ops/s" 60 throttled_some
until_true "Prometheus shows over 5% throttled" 60 prom_ratio_over
until_true "6 s of throttled load in the layer's timeline" 60 six_seconds_over
log "150 ops/s: $(metric app_throttled_total) throttled of $(metric app_requests_total); Prometheus's throttled fraction: $(ratio)"

# 3. The layer agrees with the simulator. Stop sending and let every request be answered first.
set_rate '{"rate": 0}'
drained() { (($(metric app_in_flight) == 0)); }
until_true "the simulator's requests all answered" 30 drained
ended_at="$(date +%s%3N)"
report --ua other >"$work/other.json" || fail "usage_report.mjs"
report --ua backfilld >"$work/backfilld.json" || fail "usage_report.mjs --ua backfilld"
report --ua all --until "$((raised_at / 1000 * 1000))" >"$work/before.json" || fail "usage_report.mjs --until"
report --ua all --since "$raised_at" --until "$ended_at" >"$work/after.json" || fail "usage_report.mjs --since"
log "layer, other: $(jq -c . "$work/other.json")"
sim_requests="$(metric app_requests_total)"
sim_throttled="$(metric app_throttled_total)"
sim_charge="$(metric app_request_charge_total)"
log "simulator: $sim_requests requests, $sim_throttled throttled, $sim_charge RU"
# Within 1 % (each side counts every answer; only a request lost in transport could differ).
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (a > b ? a : b) * 0.01; exit !(d <= (m > 1 ? m : 1)) }'; }
close "$(jq .requests "$work/other.json")" "$sim_requests" || fail "the layer saw $(jq .requests "$work/other.json") requests, the simulator sent $sim_requests"
close "$(jq .throttled "$work/other.json")" "$sim_throttled" || fail "the layer answered $(jq .throttled "$work/other.json") 429s, the simulator counted $sim_throttled"
close "$(jq .requestCharge "$work/other.json")" "$sim_charge" || fail "the layer charged $(jq .requestCharge "$work/other.json") RU, the simulator counted $sim_charge"
jq -e '.requests == 0' "$work/backfilld.json" >/dev/null || fail "the simulator's requests were classed as backfilld's: $(jq -c . "$work/backfilld.json")"
jq -e '.throttled == 0 and .requests > 0' "$work/before.json" >/dev/null || fail "429s before the raise: $(jq -c . "$work/before.json")"
# The layer's token bucket (a second of burst, plus the debt of requests admitted on an estimate)
# bounds any 5-s window near the throughput, and at 150 ops/s it was kept busy near it.
jq -e --argjson limit "$throughput" '.max5sRuPerSecond <= $limit * 1.5 and .max5sRuPerSecond >= $limit * 0.7' \
  "$work/after.json" >/dev/null || fail "5-s peak over the raise is not near $throughput RU/s: $(jq -c . "$work/after.json")"
# Bad input is refused with a message naming it.
refused() { # refused STATUS PATTERN CURL-ARGS...: the answer has STATUS and a body matching PATTERN
  local want="$1" pattern="$2" got
  shift 2
  got="$(curl -sS -o "$work/refused.out" -w '%{http_code}' "$@")"
  [[ "$got" == "$want" ]] && grep -q -- "$pattern" "$work/refused.out" ||
    fail "$* answered $got $(cat "$work/refused.out"), want $want matching '$pattern'"
}
refused 400 "rate must be a number" -X POST -d '{"rate": -1}' "$sim/rate"
refused 400 "unknown field ops" -X POST -d '{"ops": 5}' "$sim/rate"
refused 400 "ua must be" --cacert "$ca" "$layer/_layer/stats/usage?collection=$collection&ua=job"
refused 400 "since must be" --cacert "$ca" "$layer/_layer/stats/usage?collection=$collection&since=yesterday"
refused 404 "dbs/$db/colls/nope" --cacert "$ca" "$layer/_layer/stats/usage?collection=dbs/$db/colls/nope"
jq -e --arg c "$collection" '.collections[$c].usage.other | length > 0' <(curl -sSf --cacert "$ca" "$layer/_layer/stats") >/dev/null ||
  fail "GET /_layer/stats has no per-second usage for $collection"
log "before the raise: $(jq -c . "$work/before.json"); after: $(jq -c . "$work/after.json")"
log "passed"
