#!/usr/bin/env bash
# Every scenario of bench/run.sh, one after another, then one table of
# the median ratios against the DESIGN.md targets (make bench).
#
#   bench/all.sh [rounds=N] [duration=S]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp /tmp/consent-bench-all.XXXXXX)
trap 'rm -f "$log"' EXIT

# scenario, rules, what it shows, target (module/plain)
cases=(
    "cookie 20 cookie,_20_rules 0.95"
    "cookie 2000 cookie,_2,000_rules 0.95"
    "cache default cache_hit 0.95"
    "nocache default no_cache:_Redis_each_time 0.85"
    "down default Redis_down 0.95"
)

rows=()
for c in "${cases[@]}"; do
    read -r scenario rules label target <<<"$c"
    echo "=== $scenario, rules=$rules"
    "$top/bench/run.sh" "scenario=$scenario" "rules=$rules" "$@" | tee "$log"
    median=$(awk '/^median ratio/ {print $NF}' "$log")
    verdict=$(awk -v m="$median" -v t="$target" \
              'BEGIN {print (m >= t) ? "ok" : "BELOW"}')
    rows+=("$(printf '%-28s %8s %8s  %s' "${label//_/ }" "$median" \
              "$target" "$verdict")")
done

echo
printf '%-28s %8s %8s\n' scenario ratio target
printf '%s\n' "${rows[@]}"
