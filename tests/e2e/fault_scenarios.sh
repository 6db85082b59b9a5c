# Scenarios of run_encrypt_test.sh that prove nothing is lost under faults (issue 6); sourced by
# it, so they share its helpers (seed_db, run_backfilld, verify, compare, ...).
#
#   faults      live runs (single PUTs, then batched writes) through tests/faults/fault_proxy.mjs
#               (10% 429, 2% 503, 1% dropped connections half before and half after forwarding,
#               and 449, 408, slow answers past the deadline, truncated bodies): exact counts,
#               every value encrypted once
#   crashloop   SIGKILL at random moments (mid-batch) of live runs, $CRASH_KILLS times (10), each
#               restarted; then a final run: every value encrypted once, nothing else changed
#   writers     an application (tests/faults/app_writer.mjs) updates and creates plaintext
#               documents during the live run; after a second (verification) run no update is
#               lost and every value is encrypted

proxy_pid=""
stop_proxy() {
  if [[ -n "$proxy_pid" ]] && kill -0 "$proxy_pid" 2>/dev/null; then
    kill -TERM "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  proxy_pid=""
}

# start_proxy RATES [ARGS...]: the fault proxy in front of the server; sets COSMOS_ENDPOINT to it.
start_proxy() {
  rm -f "$work/proxy.port"
  node "$src/tests/faults/fault_proxy.mjs" --target "$endpoint" --cert "$state/cert.pem" \
    --key "$state/key.pem" --ca "$ca" --port-file "$work/proxy.port" \
    --counts-file "$work/injected.json" --seed "${FAULT_SEED:-$db}" --slow-ms 1500 \
    --rates "$@" >"$work/proxy.out" 2>"$work/proxy.log" &
  proxy_pid=$!
  local deadline=$((SECONDS + 20))
  until [[ -s "$work/proxy.port" ]]; do
    kill -0 "$proxy_pid" 2>/dev/null || { cat "$work/proxy.log" >&2; fail "fault proxy exited"; }
    ((SECONDS < deadline)) || fail "fault proxy did not start"
    sleep 0.05
  done
  export COSMOS_ENDPOINT="https://127.0.0.1:$(<"$work/proxy.port")"
  # An attempt answered later than this is abandoned and retried (the proxy's slow fault).
  export COSMOS_REQUEST_TIMEOUT_MS=1000
  log "fault proxy on $COSMOS_ENDPOINT: $*"
}

scenario_faults() {
  # The bad-document corpus with its huge documents: 1.4 MB of text, ~1.9 MB once encrypted.
  huge_bytes=1400000
  local rates="429=0.10,503=0.02,dropBefore=0.005,dropAfter=0.005,449=0.01,408=0.01,slow=0.005,truncate=0.005"
  local m="$work/manifest.json" f mode
  make_keyring
  # Single PUTs (~2300 requests: every kind of fault lands), then the default batched writes
  # (bulk: a lost answer covers a whole batch) on a fresh database.
  for mode in single auto; do
    seed_db_fresh
    manifest "$m" raised >/dev/null
    start_proxy "$rates"
    run_backfilld "faults-$mode" 0 --manifest "$m" --batch-size 20 --write-mode "$mode" "${live[@]}"
    stop_proxy
    export COSMOS_ENDPOINT="$endpoint"
    jq -c . "$work/injected.json" >&2
    cp "$work/injected.json" "$work/injected-$mode.json"
    if [[ "$mode" == single ]]; then
      for f in 429 449 503 408 dropBefore dropAfter slow truncate; do
        expect_json "$work/injected.json" ".faults[\"$f\"] > 0" "fault $f was injected"
      done
      for f in dropAfter truncate; do
        expect_json "$work/injected.json" ".onWrite[\"$f\"] > 0" "fault $f hit a write that happened"
      done
    fi
    expect_json "$work/injected.json" '[.onWrite[]] | add > 0' "faults hit writes"
    # Exact counts: a write that happened but was never acknowledged (dropAfter, truncate, slow)
    # is retried, answered 412, re-read, and still counted once as encrypted.
    compare "faults-$mode" "$m"
    verify encrypted "after-faults-$mode"
  done
}

scenario_crashloop() {
  per_container=2000
  seed_db
  make_keyring
  local m="$work/manifest.json" round at kills=${CRASH_KILLS:-10} ms
  manifest "$m" raised >/dev/null
  for ((round = 1; round <= kills; round += 1)); do
    # Each run resumes from the last checkpoint the one before it saved (the writes after it are
    # found encrypted and skipped): a random batch within the next 40, then a random 0-30 ms more,
    # so the kill lands inside a batch; ten runs stay within the 500 batches.
    at=$((1 + RANDOM % 40))
    ms=$((RANDOM % 30))
    interrupt KILL "kill$round" "$at" "$m" "0.0$(printf '%02d' "$ms")"
    ((rc == 137)) || fail "SIGKILL round $round: exit $rc, want 137 (killed)"
    log "run $round killed after batch $at + $ms ms"
  done
  echo "$kills" >"$work/kills-survived"
  verify partial after-kills
  run_backfilld final 0 --manifest "$m" "${live[@]}"
  compare final "$m" --already-verified "$work/after-kills.json"
  verify encrypted after-final
  log "$kills kills survived"
}

scenario_writers() {
  per_container=1000
  seed_db
  make_keyring
  local m="$work/manifest.json" app_pid rc=0
  manifest "$m" raised >/dev/null
  verify plaintext seeded
  node "$src/tests/faults/app_writer.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" \
    --per-container "$per_container" --body-bytes "$body_bytes" --record "$work/app.json" \
    --stop-file "$work/app.stop" --max-writes 4000 >"$work/app.out" 2>"$work/app.log" &
  app_pid=$!
  # The backfill's answers come 10 ms late: its read-to-write windows are wide enough for the
  # application to write into them (412, re-read, re-apply).
  start_proxy "" --latency-ms 10
  run_backfilld live 0 --manifest "$m" --batch-size 20 "${live[@]}"
  stop_proxy
  export COSMOS_ENDPOINT="$endpoint"
  touch "$work/app.stop"
  wait "$app_pid" || rc=$?
  ((rc == 0)) || { cat "$work/app.log" >&2; fail "app writer exit $rc"; }
  # (The record holds lone surrogates, which jq rejects: read its totals from stdout.)
  cat "$work/app.out" >&2
  expect_json "$work/app.out" '.updates > 0 and .creates > 0' "the application wrote during the run"
  # 412s show the re-read path ran (the application raced a replace).
  local conflicts
  conflicts="$(grep -oE '[0-9]+ conflicts re-read' "$work/live.log" | awk '{n += $1} END {print n + 0}')"
  log "conflicts re-read by the live run: $conflicts"
  # Usually 3-10; the race is not forced (tests/integration/engine forces one deterministically).
  ((conflicts > 0)) || log "WARNING: no 412 this time: the application never raced a replace"
  # A final verification scan: a second live run encrypts what the application wrote after the
  # first one passed it.
  run_backfilld verify-run 0 --manifest "$m" "${live[@]}"
  # The seeded documents the application never touched: exactly as a plain run leaves them.
  verify encrypted after-writers --ignore-ids "$work/app.json"
  # The documents it touched or created: each decrypts to the application's last write.
  node "$src/tests/faults/app_writer.mjs" --endpoint "$endpoint" --ca "$ca" --db "$db" \
    --per-container "$per_container" --body-bytes "$body_bytes" --record "$work/app.json" \
    --check --keyring "$FIELD_ENCRYPT_KEYRING_FILE" >"$work/app-check.json" ||
    fail "an application write was lost or left plaintext"
  jq -c . "$work/app-check.json" >&2
}
