#!/usr/bin/env bash
# Dashboard latency on loopback against a running server (start it yourself, e.g.
#   datamag360 serve --no-scheduler --port 3911 --data-dir DIR --site-root SITE):
#
#   scripts/bench-dashboard.sh PORT TO [STORE] [SENSORS]
#
# TO is the last day of the periods (YYYY-MM-DD, e.g. yesterday). For three filters —
#   all      all stores, the 365 days ending TO
#   store    STORE (default 1), the same year
#   week     STORE with SENSORS (default 1,2), the 7 days ending TO (the default view)
# it checks with curl that POST /api/dashboard answers 200 with "kpis", then runs
# `wrk -t1 -cCONNS -dDURATION` with a POST script and prints p50/p95/p99 and req/s.
# Then it times the server-rendered pages (GET /dashboard?… and GET /) with curl,
# RUNS times each: time to first byte and total, median and max.
# It also prints the server's CPU time per request of each filter (user + system, read from
# /proc for the process listening on PORT, over BENCH_CPU_RUNS sequential requests): unlike
# latency under load, that figure holds on a busy machine.
# Knobs: BENCH_CONNECTIONS (4), BENCH_DURATION (15s), BENCH_TTFB_RUNS (20), BENCH_CPU_RUNS
# (100), BENCH_OUT (where wrk outputs go; default a mktemp folder).
set -euo pipefail
PORT="${1:?port}"; TO="${2:?last day YYYY-MM-DD}"; STORE="${3:-1}"; SENSORS="${4:-1,2}"
CONNS="${BENCH_CONNECTIONS:-4}"; DURATION="${BENCH_DURATION:-15s}"; RUNS="${BENCH_TTFB_RUNS:-20}"
OUT="${BENCH_OUT:-$(mktemp -d /tmp/bench-dashboard.XXXXXX)}"
mkdir -p "$OUT"
BASE="http://127.0.0.1:$PORT"
FROM_Y=$(date -d "$TO -364 days" +%F); FROM_W=$(date -d "$TO -6 days" +%F)
SENSORS_JSON="[$SENSORS]"

body() { # store sensors from
  printf '{"query":{"store":%s,"sensors":%s,"from":"%s","to":"%s","h0":9,"h1":19,"lang":"fr"}}' "$1" "$2" "$3" "$TO"
}
declare -A BODIES=(
  [all]="$(body null '[]' "$FROM_Y")"
  [store]="$(body "$STORE" '[]' "$FROM_Y")"
  [week]="$(body "$STORE" "$SENSORS_JSON" "$FROM_W")"
)

echo "load before: $(uptime)"
PID=$(ss -Hltnp "sport = :$PORT" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
for name in all store week; do
  b="${BODIES[$name]}"
  code=$(curl -s -o "$OUT/$name.json" -w '%{http_code}' -H 'content-type: application/json' -d "$b" "$BASE/api/dashboard")
  if [ "$code" != 200 ] || ! grep -q '"kpis"' "$OUT/$name.json"; then
    echo "$name: HTTP $code, body: $(head -c 300 "$OUT/$name.json")" >&2; exit 1
  fi
  printf '%s: 200, %s bytes; one request %s s\n' "$name" "$(wc -c <"$OUT/$name.json")" \
    "$(curl -s -o /dev/null -w '%{time_total}' -H 'content-type: application/json' -d "$b" "$BASE/api/dashboard")"
  if [ -n "$PID" ]; then
    n="${BENCH_CPU_RUNS:-100}"; t0=$(cpu_ticks)
    for _ in $(seq "$n"); do
      curl -s -o /dev/null -H 'content-type: application/json' -d "$b" "$BASE/api/dashboard"
    done
    t1=$(cpu_ticks); hz=$(getconf CLK_TCK)
    echo "$name: server CPU per request $(python3 -c "print(round(($t1 - $t0) * 1000 / $hz / $n, 2))") ms (user + system, $n sequential requests, pid $PID)"
  fi
  esc=$(printf '%s' "$b" | sed 's/\\/\\\\/g; s/"/\\"/g')
  cat >"$OUT/$name.lua" <<EOF
wrk.method = "POST"
wrk.body = "$esc"
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local n = summary.requests
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d req_per_s=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    n, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, n / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
EOF
  wrk -t1 -c"$CONNS" -d"$DURATION" --timeout 10s -s "$OUT/$name.lua" "$BASE/api/dashboard" >"$OUT/$name.wrk" 2>&1
  echo "$name: $(grep RESULT "$OUT/$name.wrk" | sed 's/RESULT //')   [load: $(uptime | sed 's/.*load average: //')]"
done

ttfb() { # label url
  for _ in $(seq "$RUNS"); do
    curl -s -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}\n' "$2"
  done >"$OUT/ttfb-$1.txt"
  python3 - "$1" "$OUT/ttfb-$1.txt" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
codes = sorted({r[0] for r in rows})
s = [float(r[1]) * 1e3 for r in rows]; t = [float(r[2]) * 1e3 for r in rows]
print(f"{sys.argv[1]}: HTTP {','.join(codes)}, {rows[0][3]} bytes, n={len(rows)}: first byte median {statistics.median(s):.1f} ms max {max(s):.1f} ms; "
      f"last byte median {statistics.median(t):.1f} ms max {max(t):.1f} ms")
EOF
}
ttfb dashboard-default "$BASE/dashboard"
ttfb dashboard-year "$BASE/dashboard?from=$FROM_Y&to=$TO"
ttfb home "$BASE/"
echo "load after: $(uptime)"
echo "outputs in $OUT"
