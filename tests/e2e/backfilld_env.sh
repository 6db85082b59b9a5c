# shellcheck shell=bash
# Sourced by the shell tests that run backfilld against the local Cosmos server
# (run_encrypt_test.sh, daemon_test.sh, tests/deploy/prometheus_test.sh).
#
#   backfilld_env ENDPOINT CA_FILE DATABASE KEYRING_FILE
#
# Exports the environment of every backfilld run: the server and its CA, the database, the key
# (the local server checks no signature; sign with the emulator's published key, as admin.mjs
# does) and a file keyring at KEYRING_FILE, which the caller writes.
backfilld_env() {
  local local_dir
  local_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local" && pwd)"
  export COSMOS_ENDPOINT="$1" COSMOS_CA_FILE="$2" COSMOS_DATABASE="$3"
  COSMOS_KEY="$(cd "$local_dir" && node --input-type=module \
    -e 'import { kEmulatorKey } from "./admin.mjs"; process.stdout.write(kEmulatorKey)')"
  export COSMOS_KEY FIELD_ENCRYPT_ENABLED=true FIELD_ENCRYPT_KEY_PROVIDER=file
  export FIELD_ENCRYPT_KEYRING_FILE="$4"
  unset FIELD_ENCRYPT_KEY FIELD_ENCRYPT_KEY_ID
}
