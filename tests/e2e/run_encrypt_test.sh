#!/usr/bin/env bash
# End-to-end tests of `backfilld run` (encrypt-fields, the NoteLett manifest) against the real
# local Cosmos server. Each scenario seeds its own fresh database (e2e-<scenario>-<random>), so
# scenarios can run in parallel against one server, and checks the run's JSON summary
# (compare_counts.mjs) and the stored documents (verify.mjs, an independent node:crypto verifier).
#
#   run_encrypt_test.sh SCENARIO BACKFILLD SOURCE_DIR COSMOS_STATE_DIR
#
# SCENARIO:
#   lifecycle   live run without FIELD_ENCRYPT_ENABLED refused; dry run with and without keys
#               (counts; nothing written), live run (counts; exactly the mapped fields
#               encrypted), second live run (encrypts nothing, writes nothing)
#   container   --container runs only that container; an unknown one is refused, nothing runs
#   stop        the real manifest's stop criteria fail the run with the reason (exit 1), at once;
#               a failure in a later container fails the run after earlier ones succeeded
#   sigterm     SIGTERM mid-run: exit 3, status "stopped"; a second run completes; every value
#               encrypted exactly once
#   sigkill     SIGKILL at a random batch, three times; a final run completes; every value
#               encrypted exactly once
#   resume      SIGKILL mid-container, rerun with the same state directory: the rerun continues
#               the container from its checkpoint (scans fewer documents than it holds), and
#               every value is encrypted exactly once
#   throughput  5 x 2000 documents, ~1 KB notes, the manifest's batch size: prints docs/s
#   faults, crashloop, writers: see fault_scenarios.sh
#   ranges: see range_scenarios.sh
# The server must be running (deploy/local/cosmos.sh start COSMOS_STATE_DIR; CTest's `cosmos`
# fixture). E2E_KEEP=1 keeps the work directory (kept anyway on failure).
set -euo pipefail

if (($# != 4)); then
  echo "usage: $(basename "$0") lifecycle|container|stop|sigterm|sigkill|resume|throughput|faults|crashloop|writers|ranges BACKFILLD SOURCE_DIR COSMOS_STATE_DIR" >&2
  exit 2
fi
scenario="$1"
backfilld="$(realpath "$2")"
src="$(realpath "$3")"
state="$(realpath "$4")"
here="$src/tests/e2e"
seed_js="$src/deploy/local/seed.mjs"
base_manifest="$src/migrations/notelett/encrypt-fields.json"

[[ -x "$backfilld" ]] || { echo "no backfilld binary at $backfilld" >&2; exit 2; }
"$src/deploy/local/cosmos.sh" wait "$state" >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/backfilld-e2e-$scenario.XXXXXX")"
db="e2e-$scenario-$(openssl rand -hex 4)"
bg_pid=""
finish() {
  local rc=$?
  # Only the backfilld this script started, by its pid.
  if [[ -n "$bg_pid" ]] && kill -0 "$bg_pid" 2>/dev/null; then kill -KILL "$bg_pid" 2>/dev/null || true; fi
  [[ -n "$bg_pid" ]] && { wait "$bg_pid" 2>/dev/null || true; }
  # Reaped before the work directory goes (it writes its counts file there on SIGTERM).
  if [[ -n "${layer_pid:-}" ]]; then
    kill -TERM "$layer_pid" 2>/dev/null || true
    wait "$layer_pid" 2>/dev/null || true
  fi
  if [[ -n "${proxy_pid:-}" ]]; then
    kill -TERM "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  if ((rc == 0)) && [[ -z "${E2E_KEEP:-}" ]]; then
    rm -rf "$work"
  else
    echo "e2e $scenario: work directory kept: $work (database $db)" >&2
  fi
  exit "$rc"
}
trap finish EXIT

log() { echo "e2e $scenario [${SECONDS}s]: $*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

endpoint="$(<"$state/endpoint")"
ca="$state/cert.pem"
per_container=400
body_bytes=1000
huge_bytes=0  # > 0: one document per container with that many bytes of mapped text (seed.mjs)

# The environment of every backfilld run.
source "$here/backfilld_env.sh"
backfilld_env "$endpoint" "$ca" "$db" "$work/keyring.json"
# Checkpoints and job records of every run of this scenario (a rerun resumes from them).
export BACKFILLD_STATE_DIR="$work/run-state"
# A live run attests a backup; where a scenario has no dry run first, it skips that gate.
live_gate=(--backup-confirmed "e2e: a fresh database, reseeded each test")
live=("${live_gate[@]}" --allow-live-without-dry-run)

# Keyring: k2 (random, primary) encrypts; k1 is the key seed.mjs used for the values it seeded
# already encrypted (its default: 32 bytes of 0x07), so they stay decryptable.
make_keyring() {
  local k1 k2
  k1="$(head -c 32 /dev/zero | tr '\0' '\7' | base64 -w0)"
  k2="$(openssl rand -base64 32)"
  (umask 077 && printf '{"primary": "k2", "keys": {"k1": "%s", "k2": "%s"}}\n' "$k1" "$k2" \
    >"$FIELD_ENCRYPT_KEYRING_FILE")
}

# seed_db: the database, the five containers and the documents; expectations in $work/expect.json.
seed_db() {
  "$src/deploy/local/cosmos.sh" notelett "$state" "$db" >/dev/null
  node "$seed_js" --endpoint "$endpoint" --ca "$ca" --db "$db" --per-container "$per_container" \
    --body-bytes "$body_bytes" --huge-bytes "$huge_bytes" --expect-out "$work/expect.json" \
    >/dev/null 2>"$work/seed.log" ||
    { cat "$work/seed.log" >&2; fail "seeding failed"; }
  log "seeded $db: 5 x $per_container documents"
}

manifest() { # manifest OUT raised|real|fail-last -> prints make_manifest's JSON
  node "$here/make_manifest.mjs" --base "$base_manifest" --expect "$work/expect.json" --out "$1" --stop "$2"
}

# run_backfilld NAME EXPECTED_EXIT ARGS...: stdout to $work/NAME.json, stderr to $work/NAME.log.
run_backfilld() {
  local name="$1" want="$2" rc=0
  shift 2
  "$backfilld" run "$@" >"$work/$name.json" 2>"$work/$name.log" || rc=$?
  if ((rc != want)); then
    tail -n 20 "$work/$name.log" >&2
    fail "backfilld run $* ($name): exit $rc, want $want"
  fi
  log "$name: exit $rc as expected"
}

# verify EXPECT OUT [ARGS...]: verify.mjs over the database; its summary goes to $work/OUT.json.
verify() {
  local expect="$1" out="$2"
  shift 2
  node "$here/verify.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" \
    --keyring "$FIELD_ENCRYPT_KEYRING_FILE" --per-container "$per_container" \
    --body-bytes "$body_bytes" --huge-bytes "$huge_bytes" --expect "$expect" "$@" >"$work/$out.json" ||
    fail "verify --expect $expect $* ($out): the data is not what it must be"
  log "verify --expect $expect${*:+ $*}: ok"
}

compare() { # compare SUMMARY MANIFEST [ARGS...]
  local summary="$1" manifest_file="$2"
  shift 2
  node "$here/compare_counts.mjs" --summary "$work/$summary.json" --expect "$work/expect.json" \
    --manifest "$manifest_file" --db "$db" "$@" >/dev/null || fail "counts of $summary"
  log "counts of $summary: as the seed says${*:+ ($*)}"
}

all_containers="notes,palace_memories,note_artifacts,note_prompts,note_agent_actions"
others_than() { # others_than NAME...: the containers not named, comma-separated
  local out=() c n skip
  IFS=, read -ra list <<<"$all_containers"
  for c in "${list[@]}"; do
    skip=0
    for n in "$@"; do [[ "$c" == "$n" ]] && skip=1; done
    ((skip)) || out+=("$c")
  done
  (IFS=,; echo "${out[*]}")
}

# Number of completed batches in a backfilld log (one "batch N (" line each).
batches_in() { # before the child opens its log, there is none yet: 0 batches
  [[ -f "$1" ]] || { echo 0; return; }
  grep -cE ': batch [0-9]+ \(' "$1" || true
}

# wait_batches LOG PID N TIMEOUT: polls until LOG shows at least N batches. Fails when the
# process exits first (it finished before the interruption point) or on timeout.
wait_batches() {
  local log_file="$1" pid="$2" n="$3" deadline=$((SECONDS + $4))
  while (($(batches_in "$log_file") < n)); do
    kill -0 "$pid" 2>/dev/null || fail "backfilld (pid $pid) exited before batch $n; see $log_file"
    ((SECONDS < deadline)) || fail "no batch $n in $log_file within $4 s"
    sleep 0.02
  done
}

# interrupt SIGNAL NAME AT MANIFEST [DELAY]: `backfilld run` in pages of 20, sent SIGNAL once its
# log shows batch AT (and DELAY seconds more); summary $work/NAME.json, log $work/NAME.log, exit
# code in $rc.
interrupt() {
  "$backfilld" run --manifest "$4" --batch-size 20 "${live[@]}" >"$work/$2.json" 2>"$work/$2.log" &
  bg_pid=$!
  wait_batches "$work/$2.log" "$bg_pid" "$3" 60
  [[ -z "${5:-}" ]] || sleep "$5"
  kill "-$1" "$bg_pid"
  rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
}

# jq -e wrapper with a message.
expect_json() { # expect_json FILE FILTER WHAT
  jq -e "$2" "$1" >/dev/null || fail "$3 (jq '$2' on $1)"
}

# Data left by an interrupted run: per container, documents encrypted on the server (verify
# --expect partial) must be exactly those the run's summary counts as encrypted (a stop is
# clean: between batches, every write acknowledged).
same_encrypted_as_summary() { # same_encrypted_as_summary VERIFY_OUT SUMMARY
  local mismatch
  mismatch="$(jq -n --slurpfile v "$work/$1.json" --slurpfile s "$work/$2.json" '
    [$v[0].containers | to_entries[] | .key as $c | .value.encryptedDocs as $n
     | ([$s[0].containers[] | select(.container == $c) | .counts.encrypted] | add // 0) as $m
     | select($n != $m) | "\($c): \($n) encrypted on the server, \($m) in the summary"] | .[]')"
  [[ -z "$mismatch" ]] || fail "after $2: $mismatch"
  log "after $2: encrypted on the server = encrypted in its summary"
}

scenario_lifecycle() {
  seed_db
  make_keyring
  local m="$work/manifest.json"
  manifest "$m" raised >/dev/null
  verify plaintext seeded --snapshot-out "$work/etags-seeded.json"

  # A live run without FIELD_ENCRYPT_ENABLED=true is refused before it reads anything.
  FIELD_ENCRYPT_ENABLED=false run_backfilld refused 2 --manifest "$m"
  grep -q 'FIELD_ENCRYPT_ENABLED=true' "$work/refused.log" || fail "refused live run: no reason in the log"

  # The live gate, as serve's: a backup must be attested, and a dry run must have succeeded first.
  run_backfilld no-backup 2 --manifest "$m"
  grep -q 'live gate: backupConfirmed is required' "$work/no-backup.log" || fail "no-backup: no reason in the log"
  run_backfilld no-dry-run 2 --manifest "$m" "${live_gate[@]}"
  grep -q 'live gate: no succeeded dry run' "$work/no-dry-run.log" || fail "no-dry-run: no reason in the log"

  run_backfilld dry 0 --manifest "$m" --dry-run
  compare dry "$m" --dry-run
  # A dry run without any key configuration classifies and counts the same.
  env -u FIELD_ENCRYPT_ENABLED -u FIELD_ENCRYPT_KEY_PROVIDER -u FIELD_ENCRYPT_KEYRING_FILE \
    "$backfilld" run --manifest "$m" --dry-run >"$work/dry-nokeys.json" 2>"$work/dry-nokeys.log" ||
    fail "dry run without keys: exit $?"
  compare dry-nokeys "$m" --dry-run
  # Nothing written: every document as seeded, and not even rewritten as it was (etags).
  verify plaintext after-dry --unchanged-since "$work/etags-seeded.json"

  # The dry run above, found in the state directory, clears the gate.
  run_backfilld live 0 --manifest "$m" "${live_gate[@]}"
  compare live "$m"
  verify encrypted after-live --snapshot-out "$work/etags-live.json"
  expect_json "$work/live.json" '[.containers[].status] == ["succeeded","succeeded","succeeded","succeeded","succeeded"] and .ok' \
    "live summary: every container succeeded"

  run_backfilld live2 0 --manifest "$m" "${live_gate[@]}"
  # Encrypted 0 everywhere, skipped = scanned - problems; nothing written at all.
  compare live2 "$m" --already "$work/live.json"
  expect_json "$work/live2.json" '[.containers[].counts.encrypted] | add == 0' "second run encrypted nothing"
  verify encrypted after-live2 --unchanged-since "$work/etags-live.json"

  # verify over the same field map reads only. Its summary carries, per field, the plaintext
  # left by query and the undecryptable values; the seed planted malformed envelopes, so
  # verification fails (exit 1) with those counts, every container is still reported, and nothing
  # is written.
  jq '.kind = "verify" | .id = "e2e-verify"' "$m" >"$work/verify-manifest.json"
  run_backfilld verify 1 --manifest "$work/verify-manifest.json"  # no gate: verify writes nothing
  expect_json "$work/verify.json" '.containers[0] as $c | ($c.reason | startswith("verification failed: "))
    and ($c.checks.failure == $c.reason)
    and ($c.counts.fields | to_entries | all(
      ($c.checks.figures["undecryptable." + .key] == .value.errors)
      and ($c.checks.figures["plaintext." + .key] >= .value.plaintext)))
    and ([$c.checks.figures | to_entries[] | select(.key | startswith("undecryptable.")) | .value] | add > 0)' \
    "verify summary: per-field plaintext and undecryptable figures, failure reason"
  expect_json "$work/verify.json" ".containers | length == $(jq '.containers | length' "$m")" \
    "verify summary: every container reported, not only up to the first finding"
  verify encrypted after-verify --unchanged-since "$work/etags-live.json"
}

scenario_container() {
  seed_db
  make_keyring
  local m="$work/manifest.json" only=palace_memories
  manifest "$m" raised >/dev/null
  verify plaintext seeded --snapshot-out "$work/etags-seeded.json"

  # Not in the manifest: usage error (2), nothing run, nothing written.
  run_backfilld unknown 2 --manifest "$m" --container no_such_container
  grep -q 'no_such_container: not in manifest' "$work/unknown.log" || fail "unknown container: no reason in the log"

  run_backfilld only 0 --manifest "$m" --container "$only" "${live[@]}"
  compare only "$m" --only "$only"
  verify encrypted only-encrypted --containers "$only"
  verify plaintext only-others --containers "$(others_than "$only")" --unchanged-since "$work/etags-seeded.json"
}

scenario_stop() {
  seed_db
  make_keyring
  local real="$work/manifest-real.json" last="$work/manifest-fail-last.json" first reason pattern
  manifest "$real" real >/dev/null
  first="$(jq -r '.containers[0].name' "$real")"
  verify plaintext seeded --snapshot-out "$work/etags-seeded.json"

  # 1. The real thresholds, one page holding the whole first container: the seed's bad documents
  #    cross a criterion in the first page, which is therefore not written. errors are checked
  #    first, so the reason is exactly the first container's error count over maxErrors.
  reason="$(jq -r --arg c "$first" --slurpfile m "$real" \
    '"stop criterion: errors \(.[$c].errors) > maxErrors \($m[0].stopCriteria.maxErrors)"' "$work/expect.json")"
  run_backfilld real-onepage 1 --manifest "$real" --batch-size 1000 "${live[@]}"
  compare real-onepage "$real" --fail-at "$first" --reason "$reason"
  expect_json "$work/real-onepage.json" '.ok == false and (.containers | length) == 1' "run failed at the first container"
  verify plaintext after-real-onepage --unchanged-since "$work/etags-seeded.json"

  # 2. The real manifest as it is (batch size 50): it fails at the first page that crosses a
  #    criterion; pages before it are written, that page and everything after are not.
  pattern='^stop criterion: (errors|ownerMismatch|missingPartitionKey) [0-9]+ > max(Errors|OwnerMismatch|MissingPartitionKey) [0-9]+$'
  run_backfilld real 1 --manifest "$real" "${live[@]}"
  compare real "$real" --fail-at "$first" --reason-match "$pattern"
  verify partial after-real --containers "$first"
  same_encrypted_as_summary after-real real
  verify plaintext after-real-others --containers "$(others_than "$first")" --unchanged-since "$work/etags-seeded.json"

  # 3. A failure in a later container: the ones before it succeed, the run still exits 1.
  seed_db_fresh
  local fail_at
  read -r fail_at reason < <(manifest "$last" fail-last | jq -r '"\(.failAt) \(.reason)"')
  run_backfilld fail-last 1 --manifest "$last" "${live[@]}"
  compare fail-last "$last" --fail-at "$fail_at" --reason "$reason"
  local ran=()
  mapfile -t ran < <(jq -r '.containers[].container' "$work/fail-last.json")
  verify encrypted fail-last-succeeded --containers "$(IFS=,; echo "${ran[*]:0:${#ran[@]}-1}")"
  verify partial fail-last-failed --containers "$fail_at"
  same_encrypted_as_summary fail-last-failed fail-last
  # Containers the manifest does not name are not touched.
  verify plaintext fail-last-others --containers "$(others_than "${ran[@]}")"
}

# A second fresh database in the same scenario (the stop scenario's third part).
seed_db_fresh() {
  db="e2e-$scenario-$(openssl rand -hex 4)"
  export COSMOS_DATABASE="$db"
  seed_db
}

scenario_sigterm() {
  per_container=2000
  seed_db
  make_keyring
  local m="$work/manifest.json" at
  manifest "$m" raised >/dev/null
  # 5 x 2000 documents in pages of 20: 500 batches, a few seconds. Stop somewhere in the first
  # four fifths.
  at=$((1 + RANDOM % 400))
  log "live run, SIGTERM after batch $at"
  interrupt TERM term "$at" "$m"
  ((rc == 3)) || { tail -n 5 "$work/term.log" >&2; fail "SIGTERM: exit $rc, want 3"; }
  grep -q 'signal 15: stopping after the current batch' "$work/term.log" || fail "no signal line in the log"
  compare term "$m" --stopped
  expect_json "$work/term.json" '.containers[-1].status == "stopped" and .ok == false' 'summary says "stopped"'
  verify partial after-term
  same_encrypted_as_summary after-term term

  # The manifest's batch size this time: a restart need not use the interrupted run's settings.
  # It continues the stopped container from its checkpoint (resumedFrom in its summary).
  run_backfilld resume 0 --manifest "$m" "${live[@]}"
  jq -e --slurpfile t "$work/term.json" '
    ([$t[0].containers[] | select(.status == "succeeded" or .counts.scanned > 0) | .container]
     - [.containers[] | select(.resumedFrom) | .container]) == []' "$work/resume.json" >/dev/null ||
    fail "the rerun did not continue the stopped container or redid a finished one"
  # The two runs together encrypted each value once: this one encrypted what the first did not.
  compare resume "$m" --already "$work/term.json"
  verify encrypted after-resume
}

scenario_sigkill() {
  per_container=2000
  seed_db
  make_keyring
  local m="$work/manifest.json" round at
  manifest "$m" raised >/dev/null
  for round in 1 2 3; do
    # Each run resumes where the last checkpoint of the one before left off: three kills fit in
    # the 500 batches.
    at=$((1 + RANDOM % 150))
    log "live run $round, SIGKILL after batch $at"
    interrupt KILL "kill$round" "$at" "$m"
    ((rc == 137)) || fail "SIGKILL round $round: exit $rc, want 137 (killed)"
  done
  # Killed mid-batch, with writes in flight: still every document untouched or encrypted once.
  verify partial after-kills
  run_backfilld final 0 --manifest "$m" "${live[@]}"
  # The final run encrypts exactly what the killed runs left plaintext.
  compare final "$m" --already-verified "$work/after-kills.json"
  verify encrypted after-final
}

scenario_resume() {
  per_container=2000
  seed_db
  make_keyring
  local m="$work/manifest.json" at first holds scanned_now
  manifest "$m" raised >/dev/null
  first="$(jq -r '.containers[0].name' "$m")"
  holds="$(jq -r --arg c "$first" '.[$c].scanned' "$work/expect.json")"
  # Pages of 20: the first container is batches 1-100. Killed mid-container, writes in flight.
  at=$((10 + RANDOM % 60))
  log "live run, SIGKILL after batch $at of $first"
  interrupt KILL kill "$at" "$m" 0.005
  ((rc == 137)) || fail "SIGKILL: exit $rc, want 137 (killed)"
  verify partial after-kill
  # The same command again, same state directory: it continues from the checkpoint.
  "$backfilld" run --manifest "$m" --batch-size 20 "${live[@]}" >"$work/rerun.json" 2>"$work/rerun.log" ||
    fail "rerun: exit $?"
  grep -qE "running, resuming after batch [0-9]+" "$work/rerun.log" || fail "rerun: no \"resuming after batch\" in its log"
  expect_json "$work/rerun.json" ".containers[0].container == \"$first\" and .containers[0].resumedFrom.batches > 0" \
    "the rerun took over the first container's checkpoint"
  scanned_now="$(jq -r '.containers[0] | .counts.scanned - .resumedFrom.counts.scanned' "$work/rerun.json")"
  ((scanned_now < holds)) || fail "rerun scanned $scanned_now documents of $first, which holds $holds: it did not resume"
  log "rerun scanned $scanned_now of the $holds documents of $first"
  # Counts across both runs as one run's (the killed run's writes after its last checkpoint are
  # found encrypted and skipped), and every value encrypted exactly once.
  compare rerun "$m" --already-verified "$work/after-kill.json"
  verify encrypted after-rerun
}

scenario_throughput() {
  per_container=2000
  seed_db
  make_keyring
  local m="$work/manifest.json"
  manifest "$m" raised >/dev/null
  run_backfilld throughput 0 --manifest "$m" "${live[@]}"
  compare throughput "$m"
  verify encrypted after-throughput
  jq -r '.containers[] | "\(.container): \(.counts.scanned) scanned, \(.counts.encrypted) encrypted in \(.seconds * 1000 | floor) ms: \(.docsPerSecond | floor) docs/s"' \
    "$work/throughput.json" >&2
  jq -r '"all: \([.containers[].counts.scanned] | add) scanned in \([.containers[].seconds] | add * 1000 | floor) ms: \(([.containers[].counts.scanned] | add) / ([.containers[].seconds] | add) | floor) docs/s"' \
    "$work/throughput.json" >&2
}

# faults, crashloop, writers (issue 6).
source "$here/fault_scenarios.sh"
source "$here/range_scenarios.sh"

case "$scenario" in
  lifecycle | container | stop | sigterm | sigkill | resume | throughput | faults | crashloop | writers | ranges)
    "scenario_$scenario" ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
log "PASS"
