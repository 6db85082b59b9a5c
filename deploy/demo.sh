#!/usr/bin/env bash
# The main job, end to end on this machine: start the local Cosmos server (HTTPS, our own
# certificate), seed sample NoteLett data into the five containers (with nulls, built-in prompts,
# already-encrypted values and a few bad documents), start the daemon, and through its API run
# the encryption backfill as a dry run, then live, then live again (it must find nothing left to
# do), and show the result. Safe to run twice: each run seeds a fresh database.
# KEEP_RUNNING=1 leaves the server and the daemon up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${BACKFILLD_DEMO_DIR:-$root/deploy/local/.state/demo}
docs=${DEMO_DOCS_PER_CONTAINER:-1000}
cosmos="$root/deploy/local/cosmos.sh"
backfilld="$root/build/daemon/backfilld"

# The daemon is all the demo runs (the rest is Node and curl): no test binaries.
"$root/deploy/setup.sh" --target backfilld "$root/build"
mkdir -p "$state"
# The local server behind the ranges layer: 4 partition key ranges per container, as a
# production account has several physical partitions, and 4,000 RU/s per container divided among
# them (deploy/local/ranges/README.md).
"$cosmos" start "$state/cosmos" --ranges 4 --throughput 4000
[ "${KEEP_RUNNING:-0}" = 1 ] || trap '"$cosmos" stop "$state/cosmos" >/dev/null' EXIT

db="notelett-demo-$(date +%Y%m%d-%H%M%S)"
"$cosmos" notelett "$state/cosmos" "$db"

# Keys: k2 (random) is the primary; k1 is the key the sample data's already-encrypted values
# were made with (seed.mjs's default), kept decrypt-only as after a rotation.
keyring="$state/keyring.json"
if [ ! -f "$keyring" ]; then
  k1=$(head -c 32 /dev/zero | tr '\0' '\7' | base64)
  k2=$(openssl rand -base64 32)
  (umask 077 && printf '{"primary": "k2", "keys": {"k1": "%s", "k2": "%s"}}\n' "$k1" "$k2" >"$keyring")
fi

export COSMOS_ENDPOINT COSMOS_CA_FILE="$state/cosmos/cert.pem" COSMOS_DATABASE="$db"
COSMOS_ENDPOINT=$(cat "$state/cosmos/endpoint")
export COSMOS_KEY="C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
export FIELD_ENCRYPT_ENABLED=true FIELD_ENCRYPT_KEY_PROVIDER=file FIELD_ENCRYPT_KEYRING_FILE="$keyring"

echo "== seeding $docs documents per container into $db"
# Seeded straight into the server (the seeder does not retry throttled writes); the daemon goes
# through the layer.
node "$root/deploy/local/seed.mjs" --endpoint "$(cat "$state/cosmos/server-endpoint")" --ca "$COSMOS_CA_FILE" --db "$db" \
  --per-container "$docs" --expect-out "$state/expected.json" >/dev/null

# The sample data plants bad documents on purpose; the production manifest stops at the first
# owner mismatch. The demo raises the stop thresholds to exactly what was planted.
manifest="$state/manifest.json"
node -e '
  const fs = require("fs");
  const [source, expected, out] = process.argv.slice(1);
  const manifest = JSON.parse(fs.readFileSync(source, "utf8"));
  const max = JSON.parse(fs.readFileSync(expected, "utf8"))._meta.maxPerContainer;
  manifest.stopCriteria = { maxErrors: max.errors, maxOwnerMismatch: max.ownerMismatch,
                            maxMissingPartitionKey: max.missingPartitionKey };
  fs.writeFileSync(out, JSON.stringify(manifest, null, 2));
' "$root/migrations/notelett/encrypt-fields.json" "$state/expected.json" "$manifest"

# The daemon: its API on a free port, a bearer token, checkpoints in the state directory.
export BACKFILLD_API_TOKEN BACKFILLD_STATE_DIR="$state/daemon-$db"
BACKFILLD_API_TOKEN=$(openssl rand -hex 16)
"$backfilld" serve --listen 127.0.0.1:0 --environment demo >"$state/daemon.log" 2>&1 &
daemon_pid=$!
[ "${KEEP_RUNNING:-0}" = 1 ] ||
  trap 'kill -TERM $daemon_pid 2>/dev/null; wait $daemon_pid 2>/dev/null; "$cosmos" stop "$state/cosmos" >/dev/null' EXIT
for _ in $(seq 200); do
  port=$(grep -oE 'serving on port [0-9]+' "$state/daemon.log" | grep -oE '[0-9]+$' || true)
  [ -n "$port" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$state/daemon.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "the daemon did not start; see $state/daemon.log" >&2; exit 1; }
api="http://127.0.0.1:$port"
auth="Authorization: Bearer $BACKFILLD_API_TOKEN"
echo "== daemon up: $api (log: $state/daemon.log)"

# submit NAME DRY_RUN: POST /v1/jobs, wait for every job, write a run summary to $state/NAME.json
# in the shape demo_summary.mjs reads (one entry per container, from GET /v1/jobs/{id}).
submit() {
  local name=$1 dry=$2 ids
  ids=$(jq -c --argjson dry "$dry" '{manifest: ., dryRun: $dry, operator: "demo",
          backupConfirmed: "demo: local data, reseeded each run"}' "$manifest" |
    curl -sS --fail-with-body -H "$auth" -H 'Content-Type: application/json' --data-binary @- "$api/v1/jobs" |
    jq -r '.jobs[]')
  local polls=0 status
  for id in $ids; do
    while status=$(curl -sS -H "$auth" "$api/v1/jobs/$id") &&
      ! jq -e '.state | IN("succeeded", "failed", "stopped")' <<<"$status" >/dev/null; do
      # Every second, the job's progress range by range (active ranges marked *).
      if ((polls++ % 5 == 0)); then
        jq -r 'select(.progress.ranges | length > 0) | "   \(.container): " + ([.progress.ranges[] | select(.splitInto == null)
                | "range \(.id)\(if .active then "*" else "" end) \(.scanned)\(if .finished then " done" else "" end)"]
                | join(", "))' <<<"$status"
      fi
      sleep 0.2
    done
  done
  curl -sS -H "$auth" "$api/v1/jobs" | jq --arg ids "$ids" '
    def seconds: (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + ((capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber) / 1000);
    ($ids | split("\n")) as $wanted
    | [.jobs[] | select(.id as $id | $wanted | index($id))] as $jobs
    | {containers: [$jobs[] | {container, status: .state, reason, counts,
                               docsPerSecond: (.counts.scanned / ([((.finishedAt | seconds) - (.startedAt | seconds)), 0.001] | max))}],
       ok: ($jobs | all(.state == "succeeded"))}' >"$state/$name.json"
}

echo "== dry run (POST /v1/jobs, dryRun: true)"
submit dry-run true
echo "== live run (POST /v1/jobs, dryRun: false; the gate checks keys, backup and dry run)"
submit live false
echo "== second live run (must encrypt nothing)"
submit second-live false
echo "== release record of the first live job (GET /v1/jobs/{id}/report)"
first_live=$(curl -sS -H "$auth" "$api/v1/jobs" | jq -r '[.jobs[] | select(.dryRun == false)][0].id')
curl -sS -H "$auth" "$api/v1/jobs/$first_live/report" |
  jq -c '{migrationId, container, mode, state, keyProvider, keyId, operator, backupConfirmed,
          dryRun: .dryRun.counts.encrypted, live: .live.counts.encrypted}'

echo "== the first live job range by range (GET /v1/jobs/{id}: progress.ranges)"
curl -sS -H "$auth" "$api/v1/jobs/$first_live" |
  jq -r '.container as $c | .progress.ranges[]
         | "   \($c) range \(.id) [\(.minInclusive), \(.maxExclusive)): \(.scanned) scanned in \(.batches) batches"'

echo "== result (database $db)"
node "$root/deploy/local/demo_summary.mjs" "$state/expected.json" "$state/dry-run.json" \
  "$state/live.json" "$state/second-live.json"
echo "A note as stored now (body is an envelope v1; the app decrypts it):"
node "$root/deploy/local/admin.mjs" --endpoint "$COSMOS_ENDPOINT" --ca "$COSMOS_CA_FILE" \
  query "$db" notes "SELECT TOP 1 c.id, c.workspaceId, c.userId, c.title, c.body FROM c WHERE c.productId = 'notelett' AND IS_DEFINED(c.body.ct)"
echo "Run summaries: $state/{dry-run,live,second-live}.json; metrics: curl $api/metrics"
