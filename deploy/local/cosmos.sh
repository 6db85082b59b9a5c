#!/usr/bin/env bash
# Local Cosmos-compatible server (@vercel/cosmosdb-server over verified HTTPS) for backfilld
# development and tests. Every subcommand is idempotent. See README.md beside this file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wait_seconds="${COSMOS_WAIT_SECONDS:-30}"
stop_seconds="${COSMOS_STOP_SECONDS:-10}"

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") COMMAND ARGS
  install                                  npm ci here when node_modules is missing or stale
  cert DIR                                 DIR/cert.pem + DIR/key.pem (self-signed CA, localhost + 127.0.0.1, 30 days)
  start STATE_DIR [PORT] [LAYER OPTIONS]   start the server (default PORT 0 = a free port); no-op if it runs
      --ranges K [--throughput RU] [--autoscale-max RU] [--latency-ms N] [--split-after N]
                                           also start the ranges layer (ranges/layer.mjs) in front of it:
                                           STATE_DIR/endpoint then names the layer, server-endpoint the server
  wait STATE_DIR                           wait until the server answers over verified HTTPS
  stop STATE_DIR                           stop the server; succeeds when nothing is running
  create-db STATE_DIR DB                   create a database (409 = already exists)
  create-containers STATE_DIR DB NAME:/pk [NAME:/pk ...]
  notelett STATE_DIR DB                    DB plus the five NoteLett containers
STATE_DIR holds pid, port, endpoint, server-endpoint, cert.pem, key.pem and server.log; with a
layer also layer-pid, layer-port and layer.log.
Environment: COSMOS_KEY (default: the emulator key), COSMOS_WAIT_SECONDS (30), COSMOS_STOP_SECONDS (10).
EOF
  exit "${1:-2}"
}

die() {
  echo "cosmos.sh: $*" >&2
  exit 1
}

# Serialises commands that touch one file set (a state dir, or node_modules) across processes.
# The fd is closed for the server we start, so the server never holds the lock.
lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  flock -w 120 9 || die "timed out waiting for lock $1"
}

unlock() {
  exec 9>&-
}

cmd_install() {
  local stamp="$here/node_modules/.package-lock.json"
  mkdir -p "$here/.state"
  lock "$here/.state/install.lock"
  if [[ ! -d "$here/node_modules" || ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
    echo "cosmos.sh: npm ci in $here" >&2
    # --ignore-scripts: nothing in this tree needs an install script, so nothing runs or downloads.
    (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    touch "$stamp"
  fi
  unlock
}

cert_valid() {
  local dir="$1"
  [[ -s "$dir/cert.pem" && -s "$dir/key.pem" ]] &&
    openssl x509 -in "$dir/cert.pem" -noout -checkend 86400 >/dev/null 2>&1
}

cmd_cert() {
  local dir="$1"
  mkdir -p "$dir"
  if cert_valid "$dir"; then
    return 0
  fi
  local tmp
  tmp="$(mktemp -d "$dir/.cert.XXXXXX")"
  # A self-signed CA that is also the server certificate: clients get cert.pem as their CA
  # file and verify the chain and the host name (localhost or 127.0.0.1) as in production.
  if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 30 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,digitalSignature,keyCertSign" \
      -addext "extendedKeyUsage=serverAuth" >"$tmp/openssl.log" 2>&1; then
    cat "$tmp/openssl.log" >&2
    rm -rf "$tmp"
    die "openssl failed to make a certificate in $dir"
  fi
  chmod 600 "$tmp/key.pem"
  mv -f "$tmp/key.pem" "$dir/key.pem"
  mv -f "$tmp/cert.pem" "$dir/cert.pem"
  rm -rf "$tmp"
  echo "cosmos.sh: new certificate $dir/cert.pem ($(openssl x509 -in "$dir/cert.pem" -noout -enddate))" >&2
}

# The pid in STATE_DIR/pid when that process is alive and is our server.mjs for this state dir
# (guards against a recycled pid); empty otherwise.
live_pid() {
  local state="$1" pid name="${2:-}"
  [[ -f "$state/${name}pid" ]] || return 0
  pid="$(<"$state/${name}pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [[ -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--port-file $state/${name}port "; then
    echo "$pid"
  fi
}

# True while pid runs. A zombie counts as gone: once cosmos.sh has exited the server's parent
# is init (or a subreaper), which may take a while to reap it, and kill -0 succeeds on zombies.
running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != "Z" ]]
}

answers() {
  local state="$1" port
  [[ -s "$state/port" && -s "$state/cert.pem" ]] || return 1
  port="$(<"$state/port")"
  curl -sS --fail --noproxy '*' --max-time 3 --cacert "$state/cert.pem" \
    -o /dev/null "https://127.0.0.1:$port/" 2>/dev/null
}

log_tail() {
  local state="$1"
  if [[ -f "$state/server.log" ]]; then
    echo "--- last lines of $state/server.log ---" >&2
    tail -n 30 "$state/server.log" >&2
  fi
}

# Waits (bounded) until the server answers; with a pid, also fails as soon as it dies.
wait_answer() {
  local state="$1" pid="${2:-}" deadline="${3:-$((SECONDS + wait_seconds))}"
  while ((SECONDS < deadline)); do
    if answers "$state"; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! running "$pid"; then
      echo "cosmos.sh: server (pid $pid) exited before answering" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "cosmos.sh: server in $state did not answer over HTTPS within ${wait_seconds}s" >&2
  return 1
}

abs_dir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

cmd_start() {
  local state port=0 pid
  state="$(abs_dir "$1")"
  shift
  if (($# > 0)) && [[ "$1" != --* ]]; then
    port="$1"
    shift
  fi
  if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port > 65535)); then
    die "bad PORT: $port"
  fi
  local layer_args=()
  while (($# > 0)); do
    case "$1" in
      --ranges | --throughput | --autoscale-max | --latency-ms | --split-after)
        (($# >= 2)) && [[ "$2" =~ ^[0-9]+$ ]] || die "$1 wants a number"
        layer_args+=("$1" "$2")
        shift 2
        ;;
      *) die "unknown start option: $1" ;;
    esac
  done
  if ((${#layer_args[@]} > 0)) && [[ " ${layer_args[*]} " != *" --ranges "* ]]; then
    die "layer options need --ranges K"
  fi
  cmd_install
  cmd_cert "$state"
  lock "$state/lock"
  pid="$(live_pid "$state")"
  if [[ -n "$pid" ]]; then
    if ((port != 0)) && [[ "$(<"$state/port")" != "$port" ]]; then
      die "a server from $state already runs on port $(<"$state/port") (pid $pid), not $port"
    fi
    if wait_answer "$state" "$pid"; then
      echo "https://127.0.0.1:$(<"$state/port")" >"$state/server-endpoint"
      echo "already running: $(<"$state/server-endpoint") (pid $pid)"
      ((${#layer_args[@]} == 0)) || start_layer "$state" "${layer_args[@]}"
      unlock
      return 0
    fi
    log_tail "$state"
    die "a server from $state runs (pid $pid) but does not answer"
  fi
  rm -f "$state/pid" "$state/port" "$state/endpoint" "$state/server-endpoint"
  echo "--- start $(date -u +%FT%TZ) ---" >>"$state/server.log"
  # setsid: its own session, so a terminal's Ctrl-C or the caller's exit does not reach it.
  # Run in the background from a non-interactive shell, setsid execs without forking, so $! is
  # the server's pid.
  setsid nohup node "$here/server.mjs" --cert "$state/cert.pem" --key "$state/key.pem" \
    --port "$port" --host 127.0.0.1 --port-file "$state/port" \
    </dev/null >>"$state/server.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$state/pid.tmp" && mv -f "$state/pid.tmp" "$state/pid"
  local deadline=$((SECONDS + wait_seconds))
  while [[ ! -s "$state/port" ]] && ((SECONDS < deadline)) && running "$pid"; do
    sleep 0.05
  done
  if [[ ! -s "$state/port" ]]; then
    echo "cosmos.sh: server did not report a port" >&2
    log_tail "$state"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$state/pid"
    die "start failed"
  fi
  echo "https://127.0.0.1:$(<"$state/port")" >"$state/endpoint.tmp"
  cp "$state/endpoint.tmp" "$state/server-endpoint"
  mv -f "$state/endpoint.tmp" "$state/endpoint"
  if ! wait_answer "$state" "$pid" "$deadline"; then
    log_tail "$state"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$state/pid" "$state/port" "$state/endpoint"
    die "start failed"
  fi
  echo "started: $(<"$state/endpoint") (pid $pid)"
  ((${#layer_args[@]} == 0)) || start_layer "$state" "${layer_args[@]}"
  unlock
}

# The ranges layer in front of the server (ranges/layer.mjs, README.md there). Runs under the
# state lock; endpoint is switched to the layer only once it answers. A layer already running
# for this state dir is kept (its options cannot change without a stop).
start_layer() {
  local state="$1" pid
  shift
  pid="$(live_pid "$state" layer-)"
  if [[ -z "$pid" ]]; then
    rm -f "$state/layer-pid" "$state/layer-port"
    echo "--- start $(date -u +%FT%TZ) $* ---" >>"$state/layer.log"
    setsid nohup node "$here/ranges/layer.mjs" --upstream "$(<"$state/server-endpoint")" \
      --cert "$state/cert.pem" --key "$state/key.pem" "$@" --port 0 --port-file "$state/layer-port" \
      </dev/null >>"$state/layer.log" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$state/layer-pid"
    local deadline=$((SECONDS + wait_seconds))
    while [[ ! -s "$state/layer-port" ]] && ((SECONDS < deadline)) && running "$pid"; do
      sleep 0.05
    done
  fi
  if [[ ! -s "$state/layer-port" ]] ||
    ! curl -sS --fail --noproxy '*' --max-time 3 --cacert "$state/cert.pem" -o /dev/null \
      "https://127.0.0.1:$(<"$state/layer-port")/"; then
    tail -n 30 "$state/layer.log" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$state/layer-pid" "$state/layer-port"
    die "the ranges layer did not start"
  fi
  echo "https://127.0.0.1:$(<"$state/layer-port")" >"$state/endpoint.tmp"
  mv -f "$state/endpoint.tmp" "$state/endpoint"
  echo "layer: $(<"$state/endpoint") -> $(<"$state/server-endpoint") (pid $pid)"
}

# Stops the layer if one runs for this state dir (SIGTERM, bounded wait, SIGKILL last).
stop_layer() {
  local state="$1" pid
  pid="$(live_pid "$state" layer-)"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + stop_seconds))
    while running "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
    running "$pid" && kill -KILL "$pid" 2>/dev/null || true
    echo "layer stopped (pid $pid)"
  fi
  rm -f "$state/layer-pid" "$state/layer-port"
}

cmd_wait() {
  local state="$1"
  [[ -d "$state" ]] || die "no state dir $state"
  state="$(abs_dir "$state")"
  local deadline=$((SECONDS + wait_seconds))
  # The port file may not exist yet when a start runs concurrently.
  while [[ ! -s "$state/port" ]] && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if ! wait_answer "$state" "$(live_pid "$state")" "$deadline"; then
    log_tail "$state"
    die "server in $state is not answering"
  fi
  echo "answering: $(<"$state/endpoint")"
}

cmd_stop() {
  local state pid
  if [[ ! -d "$1" ]]; then
    echo "not running (no state dir $1)"
    return 0
  fi
  state="$(abs_dir "$1")"
  lock "$state/lock"
  stop_layer "$state"
  pid="$(live_pid "$state")"
  if [[ -z "$pid" ]]; then
    rm -f "$state/pid" "$state/port" "$state/endpoint" "$state/server-endpoint"
    echo "not running"
    unlock
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + stop_seconds))
  while running "$pid" && ((SECONDS < deadline)); do
    sleep 0.05
  done
  if running "$pid"; then
    echo "cosmos.sh: pid $pid ignored SIGTERM for ${stop_seconds}s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while running "$pid"; do sleep 0.05; done
  fi
  rm -f "$state/pid" "$state/port" "$state/endpoint" "$state/server-endpoint"
  echo "stopped (pid $pid)"
  unlock
}

admin() {
  local state="$1"
  shift
  [[ -s "$state/endpoint" ]] || die "no server in $state (run: cosmos.sh start $state)"
  node "$here/admin.mjs" --endpoint "$(<"$state/endpoint")" --ca "$state/cert.pem" "$@"
}

cmd_notelett() {
  local state="$1" db="$2"
  admin "$state" create-db "$db"
  admin "$state" create-containers "$db" \
    notes:/workspaceId palace_memories:/userId note_artifacts:/workspaceId \
    note_prompts:/userId note_agent_actions:/workspaceId
}

main() {
  (($# >= 1)) || usage
  local cmd="$1"
  shift
  case "$cmd" in
    install) (($# == 0)) || usage; cmd_install ;;
    cert) (($# == 1)) || usage; cmd_cert "$1" ;;
    start) (($# >= 1)) || usage; cmd_start "$@" ;;
    wait) (($# == 1)) || usage; cmd_wait "$1" ;;
    stop) (($# == 1)) || usage; cmd_stop "$1" ;;
    create-db) (($# == 2)) || usage; admin "$1" create-db "$2" ;;
    create-containers) (($# >= 3)) || usage; admin "$1" create-containers "${@:2}" ;;
    notelett) (($# == 2)) || usage; cmd_notelett "$1" "$2" ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
  esac
}

main "$@"
