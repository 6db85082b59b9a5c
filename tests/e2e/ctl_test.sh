#!/usr/bin/env bash
# End-to-end tests of `backfilld ctl` against `backfilld serve` on the real local Cosmos server.
#
#   ctl_test.sh SCENARIO BACKFILLD SOURCE_DIR COSMOS_STATE_DIR
#
# SCENARIO:
#   cli   a live submit before any dry run is refused with the live gate's JSON error (exit 2);
#         `ctl submit --dry-run` queues one job per container and they succeed; `jobs`, `show`,
#         `report`, `watch --once` and a piped `watch JOB` print them; a slow job is paused,
#         `set JOB batchSize=7` reaches its knobs, resumed and stopped; a bad key=value is a
#         usage error (2), an ended job's PATCH a 409 (2); the token from a file works; a wrong
#         token exits 4, an unknown job 5, a stopped daemon 3
#   tmux  `ctl watch` in a detached tmux session of fixed size against a running job: the pane
#         shows the job's state and progress bar, one frame redrawn in place (one heading on the
#         screen, however many refreshes), and it changes as the job advances. Skipped (exit 77)
#         when tmux is not installed, saying so.
set -euo pipefail

(($# == 4)) || { echo "usage: $(basename "$0") cli|tmux BACKFILLD SOURCE_DIR COSMOS_STATE_DIR" >&2; exit 2; }
scenario="$1"
if [[ "$scenario" == tmux ]] && ! command -v tmux >/dev/null; then
  echo "ctl tmux: SKIPPED: tmux is not installed (deploy/setup.sh installs it; apt-get install tmux)" >&2
  exit 77
fi
backfilld="$(realpath "$2")"
src="$(realpath "$3")"
state="$(realpath "$4")"
"$src/deploy/local/cosmos.sh" wait "$state" >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/backfilld-ctl-$scenario.XXXXXX")"
db="ctl-$scenario-$(openssl rand -hex 4)"
daemon_pid=""
tmux_socket="$work/tmux.sock"
finish() {
  local rc=$?
  [[ -S "$tmux_socket" ]] && tmux -S "$tmux_socket" kill-server 2>/dev/null || true
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -KILL "$daemon_pid" || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if ((rc == 0)) && [[ -z "${E2E_KEEP:-}" ]]; then rm -rf "$work"; else echo "ctl $scenario: kept $work (database $db)" >&2; fi
  exit "$rc"
}
trap finish EXIT
log() { echo "ctl $scenario [${SECONDS}s]: $*" >&2; }
fail() { log "FAIL: $*"; [[ -f "$work/daemon.log" ]] && tail -n 20 "$work/daemon.log" >&2; exit 1; }

endpoint="$(<"$state/endpoint")"
ca="$state/cert.pem"
source "$src/tests/e2e/backfilld_env.sh"
backfilld_env "$endpoint" "$ca" "$db" "$work/keyring.json"
token="$(openssl rand -hex 16)"
(umask 077 && printf '%s\n' "$token" >"$work/token")
export BACKFILLD_API_TOKEN="$token"
unset BACKFILLD_API_TOKEN_FILE
(umask 077 && printf '{"primary": "k1", "keys": {"k1": "%s"}}\n' "$(openssl rand -base64 32)" \
  >"$FIELD_ENCRYPT_KEYRING_FILE")
"$src/deploy/local/cosmos.sh" notelett "$state" "$db" >/dev/null
node "$src/deploy/local/seed.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" \
  --per-container 300 --containers palace_memories,notes \
  --expect-out "$work/expect.json" >/dev/null 2>&1 || fail "seed"
node "$src/tests/e2e/make_manifest.mjs" --base "$src/migrations/notelett/encrypt-fields.json" \
  --expect "$work/expect.json" --out "$work/full.json" --stop raised >/dev/null
jq '.containers |= map(select(.name == "palace_memories" or .name == "notes"))' "$work/full.json" \
  >"$work/manifest.json"

"$backfilld" serve --listen 127.0.0.1:0 --state-dir "$work/state" --max-running-jobs 1 \
  --environment e2e >"$work/daemon.log" 2>&1 &
daemon_pid=$!
deadline=$((SECONDS + 20))
until port="$(grep -oE 'serving on port [0-9]+' "$work/daemon.log" | grep -oE '[0-9]+$')"; do
  kill -0 "$daemon_pid" 2>/dev/null || fail "daemon exited at start"
  ((SECONDS < deadline)) || fail "daemon did not start"
  sleep 0.05
done
export BACKFILLD_URL="http://127.0.0.1:$port"
log "daemon up on $BACKFILLD_URL"

# ctl ARGS...: runs `backfilld ctl`, stdout in $work/out, stderr in $work/err; sets $rc.
ctl() {
  rc=0
  "$backfilld" ctl "$@" >"$work/out" 2>"$work/err" || rc=$?
}
# expect_ctl RC ARGS...: ctl ARGS must exit RC.
expect_ctl() {
  local want="$1"
  shift
  ctl "$@"
  ((rc == want)) || fail "ctl $*: exit $rc, want $want; stdout: $(cat "$work/out"); stderr: $(cat "$work/err")"
}
out_has() { grep -qF -- "$1" "$work/out" || fail "stdout lacks \"$1\": $(cat "$work/out")"; }
err_has() { grep -qF -- "$1" "$work/err" || fail "stderr lacks \"$1\": $(cat "$work/err")"; }
job_field() { "$backfilld" ctl show "$1" --output json | jq -r "$2"; }
wait_job() { # wait_job ID JQ_CONDITION TIMEOUT
  local deadline=$((SECONDS + $3))
  until [[ "$(job_field "$1" "$2")" == true ]]; do
    ((SECONDS < deadline)) || fail "job $1: not ($2) within $3 s: $(job_field "$1" .state)"
    sleep 0.1
  done
}
# slow_job: a dry run of palace_memories paced at 20 documents/s (15 s for the seed's 300), submitted
# with curl since knobs at submission are the API's, not ctl's; prints its id.
slow_job() {
  jq -c '{manifest: ., dryRun: true, operator: "e2e", container: "palace_memories",
          knobs: {batchSize: 10, maxDocumentsPerSecond: 20}}' "$work/manifest.json" |
    curl -sS -f -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data-binary @- "$BACKFILLD_URL/v1/jobs" | jq -r '.jobs[0]'
}

scenario_cli() {
  expect_ctl 0 --help
  out_has "Exit codes:"
  expect_ctl 2 frobnicate
  err_has 'unknown command "frobnicate"'
  err_has "usage: backfilld ctl"

  # The daemon's 4xx with its JSON error: a live run before any dry run.
  expect_ctl 2 submit "$work/manifest.json" --backup-confirmed pitr-e2e --operator e2e
  err_has "live_gate"
  expect_ctl 2 submit "$work/manifest.json" --dry-run --output json --operator e2e --backup-confirmed x --container nope
  jq -e '.error.code' "$work/out" >/dev/null || fail "--output json: the error body is not printed as is"
  log "refusals: live gate and an unknown container, exit 2 with the API's error"

  expect_ctl 0 submit "$work/manifest.json" --dry-run --operator e2e
  out_has "submitted 2 dry-run jobs:"
  mapfile -t dry < <(tail -n +2 "$work/out")
  ((${#dry[@]} == 2)) || fail "submit printed ${#dry[@]} ids"
  # A piped `watch JOB` prints each change and exits when the job has ended.
  expect_ctl 0 watch "${dry[1]}" --interval 0.2
  out_has "succeeded"
  out_has "[##############################] 100.0%"
  expect_ctl 0 jobs
  out_has "ID"
  for id in "${dry[@]}"; do grep -q "^$id  *succeeded  *dry-run  *encrypt-fields" "$work/out" || fail "jobs: $(cat "$work/out")"; done
  expect_ctl 0 jobs --output json
  jq -e '.jobs | length == 2' "$work/out" >/dev/null || fail "jobs --output json"
  expect_ctl 0 show "${dry[0]}"
  out_has "${dry[0]}  palace_memories  encrypt-fields  dry run  succeeded"
  out_has "  knobs: batchSize=50"
  expect_ctl 0 watch --once
  out_has "backfilld at $BACKFILLD_URL: 2 jobs"
  [[ "$(grep -c '100.0%' "$work/out")" == 2 ]] || fail "watch --once: $(cat "$work/out")"
  grep -q "^  range " "$work/out" || fail "watch --once: no range line: $(cat "$work/out")"
  cp "$work/out" "$work/watch-once.txt"
  expect_ctl 0 report "${dry[0]}"
  out_has "mode: dry-run"
  out_has "operator: e2e"
  log "dry run submitted; jobs, show, watch, report print it"

  local slow
  slow="$(slow_job)"
  expect_ctl 0 pause "$slow" --operator night-shift
  out_has "$slow: pause requested"
  wait_job "$slow" '.state == "paused"' 30
  expect_ctl 0 watch "$slow" --once
  out_has "paused"
  out_has "waiting: paused"
  expect_ctl 0 set "$slow" batchSize=7 maxDocumentsPerSecond=25 --operator night-shift
  out_has "batchSize=7"
  [[ "$(job_field "$slow" .knobs.batchSize)" == 7 ]] || fail "set: batchSize not 7"
  [[ "$(job_field "$slow" .knobs.maxDocumentsPerSecond)" == 25 ]] || fail "set: rate not 25"
  expect_ctl 2 set "$slow" batchSize=seven
  err_has "set: batchSize=seven: must be a whole number"
  expect_ctl 2 set "$slow" bachSize=7
  err_has 'unknown knob "bachSize"'
  expect_ctl 0 resume "$slow"
  wait_job "$slow" '.state == "running" and .progress.scanned > 0' 30
  expect_ctl 0 stop "$slow"
  wait_job "$slow" '.state == "stopped"' 30
  expect_ctl 2 set "$slow" batchSize=8
  err_has "refused: HTTP 409"
  log "pause, set batchSize=7 (seen in show --output json), resume, stop; bad key=value exit 2"

  BACKFILLD_API_TOKEN_FILE="$work/token" expect_ctl 2 jobs # both set
  err_has "both set"
  (unset BACKFILLD_API_TOKEN && BACKFILLD_API_TOKEN_FILE="$work/token" "$backfilld" ctl jobs >/dev/null) ||
    fail "token from BACKFILLD_API_TOKEN_FILE refused"
  BACKFILLD_API_TOKEN=wrong expect_ctl 4 jobs
  err_has "not authorized (HTTP 401"
  err_has "BACKFILLD_API_TOKEN or BACKFILLD_API_TOKEN_FILE"
  (unset BACKFILLD_API_TOKEN && "$backfilld" ctl jobs 2>"$work/err") && fail "no token accepted"
  err_has "no token is set"
  expect_ctl 5 show job-nope
  err_has 'no job "job-nope"'
  expect_ctl 5 pause job-nope
  expect_ctl 5 watch job-nope --once
  log "token from a file; wrong token exit 4; unknown job exit 5"

  kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit code $?"
  daemon_pid=""
  expect_ctl 3 jobs
  err_has "cannot reach the daemon at $BACKFILLD_URL: "
  BACKFILLD_URL=https://127.0.0.1:1 expect_ctl 2 jobs
  err_has "https is not supported"
  log "daemon down: exit 3"
}

# pane: the visible screen of the watch session.
pane() { tmux -S "$tmux_socket" capture-pane -p -t ctl-watch; }

scenario_tmux() {
  local slow first second deadline
  slow="$(slow_job)"
  tmux -S "$tmux_socket" new-session -d -s ctl-watch -x 100 -y 30 \
    "env -u BACKFILLD_API_TOKEN BACKFILLD_URL=$BACKFILLD_URL BACKFILLD_API_TOKEN_FILE=$work/token TERM=xterm \
     $backfilld ctl watch --interval 0.2 2>$work/watch.err; echo watch exited \$?; sleep 60"
  deadline=$((SECONDS + 30))
  until first="$(pane)" && grep -q "running" <<<"$first" && grep -qE '\[#+-+\] +[0-9.]+%' <<<"$first"; do
    ((SECONDS < deadline)) || fail "the pane never showed a running job with a bar: $first $(cat "$work/watch.err")"
    sleep 0.1
  done
  grep -q "^$slow  palace_memories  encrypt-fields  dry run  running" <<<"$first" || fail "no title line: $first"
  grep -q "docs  [0-9.k]*/s  ETA " <<<"$first" || fail "no rate or ETA: $first"
  deadline=$((SECONDS + 30))
  until second="$(pane)" && [[ "$second" != "$first" ]]; do
    ((SECONDS < deadline)) || fail "the pane did not change in 30 s: $second"
    sleep 0.1
  done
  # Redrawn in place: however many frames were drawn, one heading on the screen.
  [[ "$(grep -c '^backfilld at ' <<<"$second")" == 1 ]] || fail "frames scroll instead of redrawing: $second"
  [[ "$(head -n 1 <<<"$second")" == "backfilld at $BACKFILLD_URL: 1 job" ]] || fail "heading: $second"
  log "pane before:"; echo "$first" >&2
  log "pane after:"; echo "$second" >&2
  tmux -S "$tmux_socket" kill-server
  curl -sS -f -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{}' "$BACKFILLD_URL/v1/jobs/$slow/stop" >/dev/null
}

"scenario_$scenario"
log "passed"
