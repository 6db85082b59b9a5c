# Scenarios of run_encrypt_test.sh against the ranges layer (deploy/local/ranges, issue 13);
# sourced by it, so they share its helpers (seed_db, run_backfilld, verify, compare, ...).
#
#   ranges      a container of K=4 partition key ranges: a dry run, then a live run in which
#               the layer splits a range mid-job and backfilld is SIGKILLed while it follows
#               the split; the rerun resumes every range from its checkpoint: every value
#               encrypted exactly once and decrypting to its original, and each container's
#               per-range figures add up to its count

layer_pid=""
stop_layer() {
  if [[ -n "$layer_pid" ]] && kill -0 "$layer_pid" 2>/dev/null; then
    kill -TERM "$layer_pid" 2>/dev/null || true
    wait "$layer_pid" 2>/dev/null || true
  fi
  layer_pid=""
}

# start_layer K: the ranges layer in front of the server; COSMOS_ENDPOINT goes through it. Its
# throughput is set high enough not to throttle (e2e/daemon-throttle covers that): this test is
# about ranges and splits, and stays quick.
start_layer() {
  rm -f "$work/layer.port"
  node "$src/deploy/local/ranges/layer.mjs" --upstream "$endpoint" --cert "$state/cert.pem" \
    --key "$state/key.pem" --ranges "$1" --throughput 1000000 --port 0 --port-file "$work/layer.port" \
    >"$work/layer.out" 2>"$work/layer.log" &
  layer_pid=$!
  local deadline=$((SECONDS + 30))
  while [[ ! -s "$work/layer.port" ]]; do
    kill -0 "$layer_pid" 2>/dev/null || { cat "$work/layer.log" >&2; fail "the ranges layer exited"; }
    ((SECONDS < deadline)) || fail "the ranges layer did not start"
    sleep 0.05
  done
  layer_endpoint="https://127.0.0.1:$(<"$work/layer.port")"
  export COSMOS_ENDPOINT="$layer_endpoint"
  log "ranges layer ($1 ranges) at $layer_endpoint"
}

layer_split() { # layer_split CONTAINER RANGE
  curl -sS --fail --noproxy '*' --cacert "$ca" -X POST \
    -d "{\"collection\": \"dbs/$db/colls/$1\", \"range\": \"$2\", \"completeAfterMs\": 0}" \
    "$layer_endpoint/_layer/split" >"$work/split.json" || fail "the layer refused the split of $1/$2"
  log "the layer split $1 range $2: $(jq -c '[.children[]?.id] // .' "$work/split.json" 2>/dev/null)"
}

# Every container's per-range scanned figures add up to its scanned count.
ranges_add_up() { # ranges_add_up SUMMARY
  local bad
  bad="$(jq -r '.containers[] | select(([.ranges[].scanned] | add // 0) != .counts.scanned)
    | "\(.container): ranges say \([.ranges[].scanned] | add), counts say \(.counts.scanned)"' \
    "$work/$1.json")"
  [[ -z "$bad" ]] || fail "$1: per-range figures do not add up: $bad"
  log "$1: per-range figures add up to each container's count"
}

scenario_ranges() {
  per_container=300
  seed_db
  make_keyring
  start_layer 4
  local m="$work/manifest.json" first
  manifest "$m" raised >/dev/null
  first="$(jq -r '.containers[0].name' "$m")"

  run_backfilld dry 0 --manifest "$m" --dry-run --batch-size 20 "${live_gate[@]}"
  compare dry "$m" --dry-run
  ranges_add_up dry
  expect_json "$work/dry.json" '[.containers[] | (.ranges | length) == 4 and all(.ranges[]; .finished)] | all' \
    "the dry run scanned each container as 4 ranges"

  # Live, pages of 20, two ranges at a time: range 0 of the first container splits mid-job,
  # and the run is killed shortly after (while or just after the split is followed).
  "$backfilld" run --manifest "$m" --batch-size 20 --range-concurrency 2 "${live_gate[@]}" \
    >"$work/kill.json" 2>"$work/kill.log" &
  bg_pid=$!
  wait_batches "$work/kill.log" "$bg_pid" 4 60
  layer_split "$first" 0
  local deadline=$((SECONDS + 60))
  until grep -q "range 0 is gone" "$work/kill.log"; do
    kill -0 "$bg_pid" 2>/dev/null || fail "backfilld exited before it followed the split; see $work/kill.log"
    ((SECONDS < deadline)) || fail "backfilld did not follow the split within 60 s"
    sleep 0.01
  done
  kill -KILL "$bg_pid"
  rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  ((rc == 137)) || fail "SIGKILL: exit $rc, want 137"
  log "killed while following the split: $(grep -m1 "range 0 is gone" "$work/kill.log" | sed 's/.*: range/range/')"
  verify partial after-kill

  run_backfilld rerun 0 --manifest "$m" --batch-size 20 --range-concurrency 4 "${live_gate[@]}"
  grep -qE "running, resuming after batch [0-9]+" "$work/rerun.log" || fail "rerun: it did not resume"
  compare rerun "$m" --already-verified "$work/after-kill.json"
  verify encrypted after-rerun
  ranges_add_up rerun
  expect_json "$work/rerun.json" \
    "[.containers[] | select(.container == \"$first\") | .ranges[] | select(.id == \"0\") | .splitInto | length] == [2]" \
    "the first container's range 0 is recorded as split into two children"
  stop_layer
}
