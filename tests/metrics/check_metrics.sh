#!/usr/bin/env bash
# Lints a realistic /metrics scrape with `promtool check metrics` (names, _total suffixes, units,
# help texts). Exits 77 (the CTest test's SKIP_RETURN_CODE) when promtool is not installed; the
# daemon never needs promtool at run time.
set -euo pipefail

sample_program=$1
if ! promtool=$(command -v promtool); then
  echo "SKIP: promtool not found (Debian: apt-get install prometheus); metrics not linted"
  exit 77
fi

scrape=$("$sample_program")
if ! grep -q '^backfilld_up 1$' <<<"$scrape"; then
  echo "FAIL: the sample scrape lacks backfilld_up 1:" >&2
  printf '%s\n' "$scrape" >&2
  exit 1
fi
echo "$(wc -l <<<"$scrape") lines from $sample_program, checked by $promtool:"
if ! problems=$("$promtool" check metrics <<<"$scrape" 2>&1); then
  printf '%s\n' "$problems" >&2
  exit 1
fi
# promtool prints nothing for a clean scrape; anything it says is a problem.
if [[ -n $problems ]]; then
  printf '%s\n' "$problems" >&2
  exit 1
fi
echo "promtool check metrics: no problems"
