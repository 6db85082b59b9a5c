#!/usr/bin/env bash
# End-to-end tests of `backfilld serve`, driven with curl only, against the real local Cosmos
# server: what an operator does at 2 a.m.
#
#   daemon_test.sh SCENARIO BACKFILLD SOURCE_DIR COSMOS_STATE_DIR
#
# SCENARIO:
#   api       bad requests (401, 400, 404, 413, 415, 422) change nothing; the live gate refuses a
#             live run before its dry run; dry run; live run paused (no write while paused),
#             resumed with a new batch size, another job stopped; status, report and metrics
#   restart   SIGKILL in the middle of a live job, restart, the job resumes and every value is
#             encrypted exactly once; SIGTERM mid-job: exit 0 within the grace period, a final
#             checkpoint, and a resume after restart
#   leaks     the seed plants a marker string in mapped values (encrypted, owner-mismatch and
#             malformed-envelope documents): after dry and live jobs (one failing on a stop
#             criterion, reason in its status) under --verbose with JSON logs, and a
#             `backfilld run` with human logs, the marker is in no log, metric, API response,
#             checkpoint or state file
#   hostile   bodies nested 100,000 levels deep get 400 on POST and PATCH and the daemon stays up;
#             a manifestPath symlink out of --manifest-dir gets 403, a ConfigMap-style link into
#             ..data/ works; one job's state file truncated and another's nested too deep while
#             the daemon is down: the restart runs every other job to the end and lists the two
#             as failed, their files moved to state/corrupt/
#   throttle  two live jobs at once behind tests/faults/fault_proxy.mjs modelling a 400 RU/s
#             container (deterministic token bucket; its retry hints too short, as a busy shared
#             container's are, so requests meet many 429s in a row): both jobs slow down, say
#             so in their status, count retries by cause in /metrics, and succeed with no
#             document counted as an error beyond the seed's planted ones; every value encrypted
set -euo pipefail

(($# == 4)) || { echo "usage: $(basename "$0") api|restart|leaks|hostile|throttle BACKFILLD SOURCE_DIR COSMOS_STATE_DIR" >&2; exit 2; }
scenario="$1"
backfilld="$(realpath "$2")"
src="$(realpath "$3")"
state="$(realpath "$4")"
here="$src/tests/e2e"
"$src/deploy/local/cosmos.sh" wait "$state" >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/backfilld-daemon-$scenario.XXXXXX")"
db="daemon-$scenario-$(openssl rand -hex 4)"
daemon_pid=""
proxy_pid=""
finish() {
  local rc=$?
  # Reaped before the work directory goes: a proxy still writing its counts file on SIGTERM
  # made `rm -rf` fail ("Directory not empty") after the scenario had passed.
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -KILL "$daemon_pid" || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if [[ -n "$proxy_pid" ]] && kill -0 "$proxy_pid" 2>/dev/null; then
    kill -TERM "$proxy_pid" || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  if ((rc == 0)) && [[ -z "${E2E_KEEP:-}" ]]; then rm -rf "$work"; else echo "daemon $scenario: kept $work (database $db)" >&2; fi
  exit "$rc"
}
trap finish EXIT
log() { echo "daemon $scenario [${SECONDS}s]: $*" >&2; }
fail() { log "FAIL: $*"; [[ -f "$work/daemon.log" ]] && tail -n 30 "$work/daemon.log" >&2; exit 1; }

endpoint="$(<"$state/endpoint")"
ca="$state/cert.pem"
per_container=400
seed_containers="notes,palace_memories,note_artifacts,note_prompts,note_agent_actions"
if [[ "$scenario" == throttle ]]; then
  per_container=150 # 2 x 150 documents x 10 RU at 400 RU/s: about 8 s of sustained throttling
  seed_containers="notes,palace_memories"
fi
source "$src/tests/e2e/backfilld_env.sh"
backfilld_env "$endpoint" "$ca" "$db" "$work/keyring.json"
export BACKFILLD_API_TOKEN="$(openssl rand -hex 16)"
unset BACKFILLD_API_TOKEN_FILE

k1="$(head -c 32 /dev/zero | tr '\0' '\7' | base64 -w0)"
(umask 077 && printf '{"primary": "k2", "keys": {"k1": "%s", "k2": "%s"}}\n' "$k1" \
  "$(openssl rand -base64 32)" >"$FIELD_ENCRYPT_KEYRING_FILE")
"$src/deploy/local/cosmos.sh" notelett "$state" "$db" >/dev/null
node "$src/deploy/local/seed.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" \
  --per-container "$per_container" --containers "$seed_containers" \
  --expect-out "$work/expect.json" >/dev/null 2>&1 || fail "seed"
node "$here/make_manifest.mjs" --base "$src/migrations/notelett/encrypt-fields.json" \
  --expect "$work/expect.json" --out "$work/manifest.json" --stop raised >/dev/null

# start_daemon: serve on a free port; the port comes from its log line.
start_daemon() {
  "$backfilld" serve --listen 127.0.0.1:0 --state-dir "$work/state" --grace-period 20 \
    --environment e2e "${daemon_args[@]}" >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  local deadline=$((SECONDS + 20))
  # One read of the log for both the count and the port: two reads could pair this start's count
  # with the previous start's port.
  local lines
  until lines="$(grep -oE 'serving on port [0-9]+' "$work/daemon.log")" &&
    [[ "$(grep -c . <<<"$lines")" == "$starts" ]]; do
    kill -0 "$daemon_pid" 2>/dev/null || fail "daemon exited at start"
    ((SECONDS < deadline)) || fail "daemon did not start"
    sleep 0.05
  done
  port="$(tail -n 1 <<<"$lines" | grep -oE '[0-9]+$')"
  base="http://127.0.0.1:$port"
}
starts=0
daemon_args=()
daemon() { starts=$((starts + 1)); start_daemon; log "daemon up on $base (pid $daemon_pid)"; }

# api METHOD PATH [BODY]: prints the status; the body goes to $work/out.json.
api() {
  local args=(-sS -o "$work/out.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $BACKFILLD_API_TOKEN")
  [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$base$2"
  cat "$work/out.json" >>"$work/responses.txt"  # every answer, for the leak check
}
expect_status() { # expect_status WANT METHOD PATH [BODY]
  local want="$1" got
  shift
  got="$(api "$@")"
  [[ "$got" == "$want" ]] || fail "$1 $2: HTTP $got, want $want: $(cat "$work/out.json")"
}
job_field() { curl -sS -H "Authorization: Bearer $BACKFILLD_API_TOKEN" "$base/v1/jobs/$1" | jq -r "$2"; }
wait_job() { # wait_job ID JQ_CONDITION TIMEOUT
  local deadline=$((SECONDS + $3))
  until [[ "$(job_field "$1" "$2")" == "true" ]]; do
    ((SECONDS < deadline)) || fail "job $1: not ($2) within $3 s: $(job_field "$1" '.state + " " + (.reason // "")')"
    sleep 0.1
  done
}
verify() { node "$here/verify.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" --keyring "$FIELD_ENCRYPT_KEYRING_FILE" \
  --per-container "$per_container" "$@" >"$work/verify.json" || fail "verify $*"; }
submit() { # submit DRY_RUN [EXTRA_JSON] -> job ids, one per line
  local body
  body="$(jq -c --argjson dry "$1" --argjson extra "${2:-{\}}" \
    '{manifest: ., dryRun: $dry, operator: "e2e-operator", backupConfirmed: "pitr-e2e"} + $extra' "$work/manifest.json")"
  expect_status 201 POST /v1/jobs "$body"
  jq -r '.jobs[]' "$work/out.json"
}
all_terminal() {
  [[ "$(curl -sS -H "Authorization: Bearer $BACKFILLD_API_TOKEN" "$base/v1/jobs" |
    jq '[.jobs[] | select(.state == "queued" or .state == "running" or .state == "paused")] | length')" == 0 ]]
}
# unthrottle ID...: lifts the documents/s limit; a job that already finished answers 409
# (knobs of an ended job cannot change), which is fine only if it succeeded.
unthrottle() {
  local id code
  for id in "$@"; do
    code="$(api PATCH "/v1/jobs/$id" '{"maxDocumentsPerSecond": 0}')"
    [[ "$code" == 200 || ("$code" == 409 && "$(job_field "$id" .state)" == succeeded) ]] ||
      fail "PATCH $id: HTTP $code: $(cat "$work/out.json")"
  done
}
wait_all() { local deadline=$((SECONDS + $1)); until all_terminal; do ((SECONDS < deadline)) || fail "jobs not done in $1 s"; sleep 0.2; done; }

scenario_api() {
  daemon
  # Bad requests: each the right 4xx as JSON, and nothing created.
  [[ "$(curl -sS -o "$work/out.json" -w '%{http_code}' "$base/v1/jobs")" == 401 ]] || fail "no token: not 401"
  jq -e '.error.code == "unauthorized"' "$work/out.json" >/dev/null || fail "401 is not a JSON error"
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$base/v1/jobs")" == 401 ]] || fail "wrong token"
  expect_status 400 POST /v1/jobs '{"manifest": '
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $BACKFILLD_API_TOKEN" \
    -H 'Content-Type: text/plain' --data 'x' "$base/v1/jobs")" == 415 ]] || fail "not 415"
  head -c 2000000 /dev/zero | tr '\0' 'a' >"$work/big"
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $BACKFILLD_API_TOKEN" \
    -H 'Content-Type: application/json' --data-binary "@$work/big" "$base/v1/jobs")" == 413 ]] || fail "not 413"
  expect_status 422 POST /v1/jobs '{"manifest": {"id": "x"}, "operator": "e2e", "dryRun": true}'
  jq -e '.error.code == "invalid_manifest"' "$work/out.json" >/dev/null || fail "422 code"
  expect_status 400 POST /v1/jobs "$(jq -c '{manifest: ., operator: "e2e", bogus: 1}' "$work/manifest.json")"
  expect_status 404 GET /v1/jobs/job-nope
  expect_status 404 POST /v1/jobs/job-nope/pause '{}'
  expect_status 405 DELETE /v1/jobs
  expect_status 422 POST /v1/jobs "$(jq -c '{manifest: ., operator: "e2e", dryRun: false, backupConfirmed: "pitr"}' "$work/manifest.json")"
  jq -e '.error.code == "live_gate" and (.error.message | contains("no succeeded dry run"))' "$work/out.json" >/dev/null ||
    fail "live gate: $(cat "$work/out.json")"
  expect_status 200 GET /v1/jobs
  jq -e '.jobs == []' "$work/out.json" >/dev/null || fail "bad requests created jobs"
  log "bad requests: 401, 400, 415, 413, 422, 404, 405 as JSON errors; nothing created"

  mapfile -t dry < <(submit true)
  ((${#dry[@]} == 5)) || fail "dry run: ${#dry[@]} jobs, want 5"
  wait_all 60
  for id in "${dry[@]}"; do
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "dry run $id: $(job_field "$id" .state)"
    local container want got
    container="$(job_field "$id" .container)"
    want="$(jq ".\"$container\".encrypted" "$work/expect.json")"
    got="$(job_field "$id" .counts.encrypted)"
    [[ "$got" == "$want" ]] || fail "dry run $container: would encrypt $got, seed says $want"
    want="$(jq ".\"$container\".scanned" "$work/expect.json")"
    got="$(job_field "$id" '.progress.estimatedTotal')"
    [[ "$got" == "$want" ]] || fail "dry run $container: estimated total $got, want $want"
  done
  verify --expect plaintext
  log "dry run: 5 jobs succeeded with the seed's counts, nothing written"

  # Live, slowed down so the operator can act while it runs.
  mapfile -t live < <(submit false '{"knobs": {"batchSize": 10, "maxDocumentsPerSecond": 100}}')
  local first="${live[0]}" last="${live[4]}"
  wait_job "$first" '.state == "running" and .progress.scanned > 0' 30
  expect_status 200 POST "/v1/jobs/$first/pause" '{"operator": "night-shift"}'
  wait_job "$first" '.state == "paused"' 30
  [[ "$(job_field "$last" .state)" == queued ]] || fail "last job is not queued behind the first"
  # Another container's job may run meanwhile (global limit 2): look at the paused one's only.
  local paused_container
  paused_container="$(job_field "$first" .container)"
  verify --expect partial --snapshot-out "$work/paused-before.json"
  sleep 1.5 # a paused job must not write for as long as we look
  verify --expect partial --snapshot-out "$work/paused-after.json"
  jq -e --arg c "$paused_container" --slurpfile after "$work/paused-after.json" \
    '.[$c] == $after[0][$c] and (.[$c] | length) > 0' "$work/paused-before.json" >/dev/null ||
    fail "documents of $paused_container changed while its job was paused"
  log "paused: no document of $paused_container changed while paused"
  expect_status 200 PATCH "/v1/jobs/$first" '{"batchSize": 100, "maxDocumentsPerSecond": 0, "operator": "night-shift"}'
  jq -e '.knobs.batchSize == 100 and .knobs.maxDocumentsPerSecond == 0' "$work/out.json" >/dev/null || fail "patch"
  expect_status 200 POST "/v1/jobs/$last/stop" '{"operator": "night-shift"}'
  expect_status 200 POST "/v1/jobs/$first/resume" '{"operator": "night-shift"}'
  # The other live jobs were submitted with the slow knobs too: speed them up.
  unthrottle "${live[@]:1:3}"
  wait_all 120
  for id in "${live[@]:0:4}"; do
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "live $id: $(job_field "$id" '.state + " " + (.reason // "")')"
  done
  [[ "$(job_field "$last" .state)" == stopped ]] || fail "stopped job: $(job_field "$last" .state)"
  [[ "$(job_field "$last" .reason)" == "stopped by operator night-shift" ]] || fail "stop reason"
  grep -q "batch .* (100 docs" "$work/daemon.log" || fail "no batch of 100 after the PATCH"
  log "resumed with batch size 100; the stopped job stayed stopped"

  expect_status 200 GET "/v1/jobs/$first/report"
  jq -e '.mode == "live" and .keyId == "k2" and .keyProvider == "file" and .operator == "e2e-operator"
         and .backupConfirmed == "pitr-e2e" and .environment == "e2e" and .dryRun.counts.encrypted == .live.counts.encrypted
         and (.rollback | length > 0) and .startedAt != null and .finishedAt != null' "$work/out.json" >/dev/null ||
    fail "report: $(cat "$work/out.json")"
  curl -sS "$base/metrics" >"$work/metrics.txt"
  grep -q "backfilld_documents_total{.*job_id=\"$first\".*outcome=\"rewritten\".*} [1-9]" "$work/metrics.txt" ||
    grep -q "backfilld_documents_total{.*outcome=\"rewritten\".*job_id=\"$first\".*} [1-9]" "$work/metrics.txt" || fail "metrics: no rewritten documents for $first"
  grep -q 'backfilld_job_state{.*state="stopped".*} 1' "$work/metrics.txt" || fail "metrics: no stopped job"
  if command -v promtool >/dev/null; then promtool check metrics <"$work/metrics.txt" || fail "promtool"; fi
  verify --expect partial
  log "report, metrics (promtool clean) and data verified"
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit code $?"
  daemon_pid=""
}

scenario_restart() {
  daemon
  mapfile -t dry < <(submit true)
  wait_all 60
  mapfile -t live < <(submit false '{"knobs": {"batchSize": 10, "maxDocumentsPerSecond": 100}}')
  # SIGKILL in the middle of the first job, then a restart: it resumes from its checkpoint.
  wait_job "${live[0]}" '.progress.scanned >= 60 and .state == "running"' 30
  kill -KILL "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
  log "SIGKILL at $(jq -r .checkpoint.batches "$work/state/${live[0]}.json") checkpointed batches"
  verify --expect partial
  daemon
  # SIGTERM in the middle of a later job: clean exit 0 within the grace period, checkpoint kept.
  wait_job "${live[1]}" '.progress.scanned >= 60 and .state == "running"' 60
  kill -TERM "$daemon_pid"
  local started=$SECONDS rc=0
  wait "$daemon_pid" || rc=$?
  daemon_pid=""
  ((rc == 0)) || fail "SIGTERM: exit $rc"
  ((SECONDS - started <= 20)) || fail "SIGTERM: took $((SECONDS - started)) s"
  jq -e '.state == "queued" and .checkpoint.batches > 0' "$work/state/${live[1]}.json" >/dev/null ||
    fail "no final checkpoint after SIGTERM: $(jq -c '{state, checkpoint: .checkpoint.batches}' "$work/state/${live[1]}.json")"
  log "SIGTERM: exit 0, checkpoint at batch $(jq .checkpoint.batches "$work/state/${live[1]}.json")"
  daemon
  unthrottle "${live[@]}"
  wait_all 120
  for id in "${live[@]}"; do
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "live $id after restarts: $(job_field "$id" .state)"
  done
  verify --expect encrypted
  log "after SIGKILL and SIGTERM: every value encrypted exactly once, decrypting to its original"
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit code $?"
  daemon_pid=""
}

scenario_leaks() {
  local marker
  marker="$(cd "$src/deploy/local" && node --input-type=module \
    -e 'import { kLeakMarker } from "./seed.mjs"; process.stdout.write(kLeakMarker)')"
  [[ ${#marker} -ge 16 ]] || fail "no leak marker from seed.mjs"
  # The marker is on the server, in plaintext, before the backfill.
  node "$src/deploy/local/admin.mjs" --endpoint "$endpoint" --ca "$ca" query "$db" notes \
    'SELECT * FROM c' >"$work/notes-seeded.json"
  grep -qF "$marker" "$work/notes-seeded.json" || fail "the seed planted no marker"
  rm -f "$work/notes-seeded.json"

  daemon_args=(--verbose --log-format json)
  daemon
  mapfile -t dry < <(submit true)
  wait_all 60
  # A job whose stop criterion fires: the reason is in its status.
  local strict
  strict="$(jq -c '.stopCriteria.maxErrors = 0 | .containers |= [.[0]]' "$work/manifest.json")"
  expect_status 201 POST /v1/jobs "$(jq -nc --argjson m "$strict" \
    '{manifest: $m, dryRun: true, operator: "e2e-operator", backupConfirmed: "pitr-e2e"}')"
  local failing container errors
  failing="$(jq -r '.jobs[0]' "$work/out.json")"
  mapfile -t live < <(submit false)
  wait_all 120
  container="$(job_field "$failing" .container)"
  errors="$(jq ".\"$container\".errors" "$work/expect.json")"
  ((errors > 0)) || fail "the seed planted no errors in $container"
  [[ "$(job_field "$failing" .state)" == failed ]] || fail "strict job: $(job_field "$failing" .state)"
  [[ "$(job_field "$failing" .reason)" == "stop criterion: errors "*" > maxErrors 0" ]] ||
    fail "strict job reason: $(job_field "$failing" .reason)"
  log "stop criterion fired: $(job_field "$failing" .reason)"
  for id in "${live[@]}"; do
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "live $id: $(job_field "$id" .state)"
  done
  verify --expect encrypted
  # Every read an operator makes: lists, each job, reports, metrics.
  expect_status 200 GET /v1/jobs
  for id in "${dry[@]}" "$failing" "${live[@]}"; do
    expect_status 200 GET "/v1/jobs/$id"
    expect_status 200 GET "/v1/jobs/$id/report"
  done
  curl -sS "$base/metrics" >"$work/metrics.txt"
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit code $?"
  daemon_pid=""
  grep -q '"level"' "$work/daemon.log" || fail "the daemon log is not JSON"
  # `backfilld run`, human logs, verbose, on the encrypted data (and a dry run of it).
  "$backfilld" run --manifest "$work/manifest.json" --verbose --state-dir "$work/run-state" \
    --backup-confirmed "e2e leaks" --allow-live-without-dry-run >"$work/run.json" 2>"$work/run.log" ||
    fail "backfilld run: exit $?"
  "$backfilld" run --manifest "$work/manifest.json" --dry-run --verbose --log-format json \
    --state-dir "$work/run-state" >"$work/run-dry.json" 2>"$work/run-dry.log" ||
    fail "backfilld run --dry-run: exit $?"
  local where
  where="$(grep -rlF "$marker" "$work/daemon.log" "$work/responses.txt" "$work/metrics.txt" \
    "$work/state" "$work/run-state" "$work"/run*.json "$work"/run*.log || true)"
  [[ -z "$where" ]] || fail "plaintext marker leaked into: $where"
  log "marker in no log (json, human), response ($(wc -c <"$work/responses.txt") bytes), metric or state file ($(ls "$work/state" | wc -l) files)"
}

scenario_hostile() {
  mkdir -p "$work/manifests/..2024_01_01"
  cp "$work/manifest.json" "$work/manifests/..2024_01_01/encrypt.json"
  ln -s ..2024_01_01 "$work/manifests/..data"
  ln -s ..data/encrypt.json "$work/manifests/encrypt.json"
  cp "$work/manifest.json" "$work/outside.json"
  ln -s ../outside.json "$work/manifests/escape.json"
  daemon_args=(--manifest-dir "$work/manifests")
  daemon
  mapfile -t dry < <(submit true)
  wait_all 60

  local deep
  deep="$(head -c 100000 /dev/zero | tr '\0' '[')$(head -c 100000 /dev/zero | tr '\0' ']')"
  printf '%s' "$deep" >"$work/deep.json"
  local path code
  for path in "POST /v1/jobs" "PATCH /v1/jobs/${dry[0]}"; do
    code="$(curl -sS -o "$work/out.json" -w '%{http_code}' -X "${path%% *}" \
      -H "Authorization: Bearer $BACKFILLD_API_TOKEN" -H 'Content-Type: application/json' \
      --data-binary "@$work/deep.json" "$base${path#* }")" || fail "$path: curl failed (daemon down?)"
    [[ "$code" == 400 ]] || fail "$path with a deep body: HTTP $code: $(head -c 300 "$work/out.json")"
    jq -e '.error.code == "invalid_json" and (.error.message | contains("nested deeper than 256 levels"))' \
      "$work/out.json" >/dev/null || fail "$path deep body: $(cat "$work/out.json")"
  done
  kill -0 "$daemon_pid" || fail "the daemon died on a deep body"
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/healthz")" == 200 ]] || fail "healthz after deep bodies"
  log "bodies nested 100,000 deep: 400 on POST and PATCH, daemon up"

  expect_status 403 POST /v1/jobs '{"manifestPath": "escape.json", "dryRun": true, "operator": "e2e"}'
  jq -e '.error.code == "forbidden"' "$work/out.json" >/dev/null || fail "escape: $(cat "$work/out.json")"
  expect_status 403 POST /v1/jobs "{\"manifestPath\": \"$work/outside.json\", \"dryRun\": true, \"operator\": \"e2e\"}"
  expect_status 403 POST /v1/jobs '{"manifestPath": "../outside.json", "dryRun": true, "operator": "e2e"}'
  local first_container
  first_container="$(jq -r '.containers[0].name' "$work/manifest.json")"
  expect_status 201 POST /v1/jobs "{\"manifestPath\": \"encrypt.json\", \"dryRun\": true, \"operator\": \"e2e\", \"container\": \"$first_container\"}"
  wait_all 60
  log "manifestPath: symlink, absolute and .. escapes 403; the ConfigMap-style link works"

  # Live jobs, slowed so they are unfinished when the daemon stops.
  mapfile -t live < <(submit false '{"knobs": {"batchSize": 10, "maxDocumentsPerSecond": 100}}')
  wait_job "${live[0]}" '.progress.scanned > 0' 30
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit code $?"
  daemon_pid=""
  local truncated="${dry[0]}" nested="${dry[1]}" size
  size="$(stat -c %s "$work/state/$truncated.json")"
  truncate -s $((size / 2)) "$work/state/$truncated.json"
  printf '{"version": 1, "id": "%s", "x": %s}' "$nested" "$deep" >"$work/state/$nested.json"
  printf '{"half' >"$work/state/.${live[0]}.json.tmp-999999-0"  # a crash's leftover temp file

  daemon
  unthrottle "${live[@]}"
  wait_all 120
  for id in "${live[@]}"; do
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "live $id after the restart: $(job_field "$id" '.state + " " + (.reason // "")')"
  done
  verify --expect encrypted
  for id in "$truncated" "$nested"; do
    expect_status 200 GET "/v1/jobs/$id"
    jq -e --arg f "$work/state/corrupt/$id.json" '.state == "failed" and .stateFile == $f
        and (.reason | startswith("state file cannot be loaded: invalid JSON"))' "$work/out.json" >/dev/null ||
      fail "set-aside job $id: $(cat "$work/out.json")"
    [[ -f "$work/state/corrupt/$id.json" && ! -e "$work/state/$id.json" ]] || fail "$id.json not moved to corrupt/"
  done
  expect_status 200 GET /v1/jobs
  jq -e --arg t "$truncated" '[.jobs[] | select(.id == $t and .state == "failed")] | length == 1' "$work/out.json" >/dev/null ||
    fail "GET /v1/jobs does not list $truncated as failed"
  grep -q "error.*job $truncated: state file $truncated.json cannot be loaded" "$work/daemon.log" || fail "no error log naming $truncated"
  [[ ! -e "$work/state/.${live[0]}.json.tmp-999999-0" ]] || fail "the leftover temp file is still there"
  log "restart with 2 damaged state files: both failed and moved to corrupt/, every live job succeeded"
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || fail "daemon exit code $?"
  daemon_pid=""
}

scenario_throttle() {
  # Only the seeded containers: the daemon runs both jobs at once (--max-running-jobs 2).
  jq --arg names "$seed_containers" '.containers |= map(select(.name as $n | $names | split(",") | index($n)))' \
    "$work/manifest.json" >"$work/manifest.tmp" && mv "$work/manifest.tmp" "$work/manifest.json"
  node "$src/tests/faults/fault_proxy.mjs" --target "$endpoint" --cert "$state/cert.pem" \
    --key "$state/key.pem" --ca "$ca" --port-file "$work/proxy.port" --counts-file "$work/proxy.json" \
    --ru-per-second 400 --ru-retry-after-ms 20 >"$work/proxy.out" 2>"$work/proxy.log" &
  proxy_pid=$!
  local deadline=$((SECONDS + 20))
  until [[ -s "$work/proxy.port" ]]; do
    kill -0 "$proxy_pid" 2>/dev/null || fail "fault proxy exited: $(cat "$work/proxy.log")"
    ((SECONDS < deadline)) || fail "fault proxy did not start"
    sleep 0.05
  done
  export COSMOS_ENDPOINT="https://127.0.0.1:$(<"$work/proxy.port")"
  daemon

  mapfile -t dry < <(submit true)
  ((${#dry[@]} == 2)) || fail "dry run: ${#dry[@]} jobs, want 2"
  wait_all 60
  for id in "${dry[@]}"; do
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "dry run $id: $(job_field "$id" '.state + " " + (.reason // "")')"
  done
  mapfile -t live < <(submit false '{"knobs": {"batchSize": 100}}')
  ((${#live[@]} == 2)) || fail "live: ${#live[@]} jobs, want 2"
  # Both run at once, and while they run their status says Cosmos throttles them.
  local saw_both=0 saw_waiting="" deadline=$((SECONDS + 80)) states
  until all_terminal; do
    ((SECONDS < deadline)) || fail "live jobs not done in 80 s: $(curl -sS -H "Authorization: Bearer $BACKFILLD_API_TOKEN" "$base/v1/jobs" | jq -c '[.jobs[] | {state, waiting, counts}]')"
    states="$(curl -sS -H "Authorization: Bearer $BACKFILLD_API_TOKEN" "$base/v1/jobs" | jq -c '[.jobs[] | select(.dryRun | not)]')"
    [[ "$(jq '[.[] | select(.state == "running")] | length' <<<"$states")" == 2 ]] && saw_both=1
    [[ -n "$saw_waiting" ]] || saw_waiting="$(jq -r '[.[].waiting // "" | select(startswith("throttled by Cosmos"))][0] // ""' <<<"$states")"
    sleep 0.1
  done
  ((saw_both)) || fail "the two live jobs never ran at the same time"
  [[ -n "$saw_waiting" ]] || fail "no live job's status said it was throttled"
  log "status while throttled: $saw_waiting"
  local id container want got
  for id in "${live[@]}"; do
    container="$(job_field "$id" .container)"
    [[ "$(job_field "$id" .state)" == succeeded ]] || fail "live $container: $(job_field "$id" '.state + " " + (.reason // "")')"
    # maxErrors is the seed's planted malformed envelopes: a single throttled document counted
    # as an error would show here (and fail the job on the container with the most of them).
    want="$(jq ".\"$container\".errors" "$work/expect.json")"
    got="$(job_field "$id" .counts.errors)"
    [[ "$got" == "$want" ]] || fail "live $container: $got errors, the seed planted $want"
    want="$(jq ".\"$container\".encrypted" "$work/expect.json")"
    got="$(job_field "$id" .counts.encrypted)"
    [[ "$got" == "$want" ]] || fail "live $container: encrypted $got, seed says $want"
  done
  verify --expect encrypted --containers "$seed_containers"
  curl -sS "$base/metrics" >"$work/metrics.txt"
  grep -qE '^backfilld_cosmos_retries_total\{.*cause="throttled".*\} [1-9]' "$work/metrics.txt" ||
    fail "no throttled retries in /metrics"
  local throttled
  throttled="$(jq '.ruThrottledWrites' "$work/proxy.json")"
  ((throttled > 20)) || fail "the proxy throttled only $throttled writes: $(cat "$work/proxy.json")"
  log "two jobs under a 400 RU/s budget: $throttled writes throttled ($(jq .ruThrottled "$work/proxy.json") requests in all), both succeeded, every value encrypted"
}

"scenario_$scenario"
log "passed"
