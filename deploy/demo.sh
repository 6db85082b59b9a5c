#!/usr/bin/env bash
# The main job, end to end on this machine: start the local Cosmos server (HTTPS, our own
# certificate), seed sample NoteLett data into the five containers (with nulls, built-in prompts,
# already-encrypted values and a few bad documents), run the encryption backfill as a dry run,
# then live, then live again (it must find nothing left to do), and show the result.
# Safe to run twice: each run seeds a fresh database. KEEP_RUNNING=1 leaves the server up.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${BACKFILLD_DEMO_DIR:-$root/deploy/local/.state/demo}
docs=${DEMO_DOCS_PER_CONTAINER:-1000}
cosmos="$root/deploy/local/cosmos.sh"
backfilld="$root/build/daemon/backfilld"

"$root/deploy/setup.sh" "$root/build"
mkdir -p "$state"
"$cosmos" start "$state/cosmos"
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
node "$root/deploy/local/seed.mjs" --endpoint "$COSMOS_ENDPOINT" --ca "$COSMOS_CA_FILE" --db "$db" \
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

echo "== dry run"
"$backfilld" run --manifest "$manifest" --dry-run >"$state/dry-run.json"
echo "== live run"
"$backfilld" run --manifest "$manifest" >"$state/live.json"
echo "== second live run (must encrypt nothing)"
"$backfilld" run --manifest "$manifest" >"$state/second-live.json"

echo "== result (database $db)"
node "$root/deploy/local/demo_summary.mjs" "$state/expected.json" "$state/dry-run.json" \
  "$state/live.json" "$state/second-live.json"
echo "A note as stored now (body is an envelope v1; the app decrypts it):"
node "$root/deploy/local/admin.mjs" --endpoint "$COSMOS_ENDPOINT" --ca "$COSMOS_CA_FILE" \
  query "$db" notes "SELECT TOP 1 c.id, c.workspaceId, c.userId, c.title, c.body FROM c WHERE c.productId = 'notelett' AND IS_DEFINED(c.body.ct)"
echo "Run summaries: $state/{dry-run,live,second-live}.json"
