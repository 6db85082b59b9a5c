#!/usr/bin/env bash
# A real Prometheus (Debian's `prometheus`) for tests: scrapes the given targets every second.
#
#   prometheus.sh start DIR --scrape NAME=HOST:PORT [--scrape ...] [--rule-file F ...] [--no-wait-targets]
#       writes DIR/prometheus.yml, starts Prometheus on a free loopback port (its own session, so it
#       outlives this script), waits until it is ready and (unless --no-wait-targets) has scraped
#       every target once; then DIR/prometheus-url names it, DIR/prometheus-pid its pid.
#   prometheus.sh query DIR EXPR     prints the instant query's .data.result (JSON); 1 on an error
#   prometheus.sh stop DIR           stops it (SIGTERM, then SIGKILL after 10 s); 0 if none runs
# Each NAME becomes the scrape job (the `job` label), with honor_labels (as the chart's
# ServiceMonitor scrapes backfilld). Logs go to DIR/prometheus.log.
set -euo pipefail

wait_seconds="${PROMETHEUS_WAIT_SECONDS:-30}"
usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "prometheus.sh: $*" >&2
  exit 1
}

# The pid in DIR/prometheus-pid when it is alive and is the Prometheus of DIR's config.
live_pid() {
  local dir="$1" pid
  [[ -s "$dir/prometheus-pid" ]] || return 0
  pid="$(<"$dir/prometheus-pid")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--config.file=$dir/prometheus.yml "; then echo "$pid"; fi
}

cmd_start() {
  local dir targets=() rules=() wait_targets=1
  dir="$(mkdir -p "$1" && cd "$1" && pwd)"
  shift
  while (($# > 0)); do
    case "$1" in
      --scrape)
        (($# >= 2)) && [[ "$2" =~ ^[A-Za-z_][A-Za-z0-9_-]*=[A-Za-z0-9.:_-]+:[0-9]+$ ]] ||
          die "--scrape wants NAME=HOST:PORT, got '${2:-}'"
        targets+=("$2")
        shift 2
        ;;
      --rule-file)
        (($# >= 2)) && [[ -f "$2" ]] || die "--rule-file wants an existing file, got '${2:-}'"
        rules+=("$(realpath "$2")")
        shift 2
        ;;
      --no-wait-targets) wait_targets=0 && shift ;;
      *) die "unknown start option: $1" ;;
    esac
  done
  ((${#targets[@]} > 0)) || die "start wants at least one --scrape NAME=HOST:PORT"
  command -v prometheus >/dev/null || die "prometheus not found: run deploy/setup.sh (Debian package prometheus)"
  [[ -z "$(live_pid "$dir")" ]] || die "a Prometheus of $dir runs already (pid $(<"$dir/prometheus-pid")); stop it first"

  {
    echo "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}"
    if ((${#rules[@]} > 0)); then
      echo "rule_files:"
      printf '  - "%s"\n' "${rules[@]}"
    fi
    echo "scrape_configs:"
    local target
    for target in "${targets[@]}"; do
      printf '  - job_name: "%s"\n    honor_labels: true\n    static_configs: [{targets: ["%s"]}]\n' \
        "${target%%=*}" "${target#*=}"
    done
  } >"$dir/prometheus.yml"
  rm -f "$dir/prometheus-url" "$dir/prometheus-pid"

  # Prometheus cannot listen on port 0 and say which it got: take a free one, retry on a clash.
  local attempt port pid url deadline
  for attempt in 1 2 3; do
    port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
    echo "--- start $(date -u +%FT%TZ) port $port ---" >>"$dir/prometheus.log"
    setsid nohup prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
      --web.listen-address="127.0.0.1:$port" </dev/null >>"$dir/prometheus.log" 2>&1 &
    pid=$!
    url="http://127.0.0.1:$port"
    deadline=$((SECONDS + wait_seconds))
    until curl -sf --noproxy '*' --max-time 2 "$url/-/ready" >/dev/null; do
      kill -0 "$pid" 2>/dev/null || break
      ((SECONDS < deadline)) || { kill -KILL "$pid"; die "not ready within ${wait_seconds}s; see $dir/prometheus.log"; }
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && break
    ((attempt < 3)) || { tail -n 20 "$dir/prometheus.log" >&2; die "prometheus did not start"; }
  done
  echo "$pid" >"$dir/prometheus-pid"
  echo "$url" >"$dir/prometheus-url"
  if ((wait_targets)); then
    deadline=$((SECONDS + wait_seconds))
    until curl -sf --noproxy '*' --max-time 2 "$url/api/v1/targets" |
      jq -e --argjson n "${#targets[@]}" '[.data.activeTargets[] | select(.health == "up")] | length == $n' >/dev/null; do
      ((SECONDS < deadline)) || die "not every target is up after ${wait_seconds}s: $(curl -sf "$url/api/v1/targets" |
        jq -c '[.data.activeTargets[] | {job: .labels.job, health, lastError}]')"
      sleep 0.2
    done
  fi
  echo "prometheus: $url (pid $pid) scraping ${targets[*]} every second"
}

cmd_query() {
  local dir="$1" expr="$2" answer
  [[ -s "$dir/prometheus-url" ]] || die "no Prometheus in $dir (prometheus.sh start $dir ...)"
  answer="$(curl -sS --noproxy '*' --max-time 5 --get --data-urlencode "query=$expr" "$(<"$dir/prometheus-url")/api/v1/query")" ||
    die "query failed: $expr"
  jq -e '.status == "success"' <<<"$answer" >/dev/null || die "query refused: $expr: $(jq -r '.error // .' <<<"$answer")"
  jq -c '.data.result' <<<"$answer"
}

cmd_stop() {
  local dir="$1" pid deadline
  [[ -d "$dir" ]] || { echo "not running (no dir $dir)"; return 0; }
  dir="$(cd "$dir" && pwd)"
  pid="$(live_pid "$dir")"
  rm -f "$dir/prometheus-url"
  if [[ -z "$pid" ]]; then
    rm -f "$dir/prometheus-pid"
    echo "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]] && ((SECONDS < deadline)); do
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/prometheus-pid"
  echo "stopped (pid $pid)"
}

(($# >= 2)) || usage
command="$1"
shift
case "$command" in
  start) cmd_start "$@" ;;
  query) (($# == 2)) || usage; cmd_query "$@" ;;
  stop) (($# == 1)) || usage; cmd_stop "$1" ;;
  *) usage ;;
esac
