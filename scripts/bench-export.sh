#!/usr/bin/env bash
# Export benchmark against a running server (start it yourself on a data folder holding the
# period, e.g. after `datamag360 backfill --from 2025-11-27 --to 2026-11-26`):
#
#   scripts/bench-export.sh PORT FROM TO [SERVER_PID]
#
# Downloads /export.csv for all stores FROM..TO in both flavours (csv, excel) RUNS times
# each (BENCH_RUNS, default 5) and prints the median and max of the total time, the size
# and the rows. With SERVER_PID it also prints the server's resident memory before and
# after, and its peak (VmHWM): memory must not grow with the range.
set -euo pipefail
PORT="${1:?port}"; FROM="${2:?from YYYY-MM-DD}"; TO="${3:?to YYYY-MM-DD}"; PID="${4:-}"
RUNS="${BENCH_RUNS:-5}"
BASE="http://127.0.0.1:$PORT"
mem() { [ -n "$PID" ] && grep -E 'VmRSS|VmHWM' "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
echo "load before: $(uptime)"
echo "server memory before: $(mem)"
for format in csv excel; do
  url="$BASE/export.csv?from=$FROM&to=$TO&format=$format"
  times=()
  for _ in $(seq 1 "$RUNS"); do
    out=$(curl -s -o /tmp/bench-export.$$ -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}' "$url")
    read -r code ttfb total size <<<"$out"
    [ "$code" = 200 ] || { echo "$format: HTTP $code: $(head -c 300 /tmp/bench-export.$$)" >&2; exit 1; }
    times+=("$total")
  done
  rows=$(($(wc -l < /tmp/bench-export.$$) - 1))
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "$format $FROM..$TO: median ${sorted[$((RUNS / 2))]} s, max ${sorted[$((RUNS - 1))]} s, first byte ${ttfb} s, $size bytes, $rows rows   [load: $(uptime | sed 's/.*load average: //')]"
done
rm -f /tmp/bench-export.$$
echo "server memory after: $(mem)"
