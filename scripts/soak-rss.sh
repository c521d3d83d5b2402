#!/usr/bin/env bash
# Resident memory of the server under sustained page traffic (outside CI):
#
#   scripts/soak-rss.sh BINARY DATA_DIR [PORT]
#
# Starts `BINARY serve --no-scheduler` on DATA_DIR (fill it first, e.g.
# `BINARY backfill --from … --to …`), warms up with SOAK_WARMUP (1000) requests to
# /dashboard, then sends SOAK_DASHBOARD (50000) requests to /dashboard and SOAK_PIPELINE
# (5000) to /pipeline with `ab -c SOAK_CONNECTIONS` (2), printing VmRSS every SOAK_STEP
# (5000) requests. Needs `ab` (Debian: apache2-utils).
set -euo pipefail
BIN="${1:?binary}"; DATA="${2:?data dir}"; PORT="${3:-3130}"
WARMUP="${SOAK_WARMUP:-1000}"; DASH="${SOAK_DASHBOARD:-50000}"; PIPE="${SOAK_PIPELINE:-5000}"
STEP="${SOAK_STEP:-5000}"; CONNS="${SOAK_CONNECTIONS:-2}"
DATAMAG_DATA_DIR="$DATA" DATAMAG_NO_SCHEDULER=1 RUST_LOG=warn "$BIN" serve --port "$PORT" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.2; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
hit() { # path count
  local out; out=$(ab -q -n "$2" -c "$CONNS" "http://127.0.0.1:$PORT$1" 2>&1)
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ {print $3}')
  [ -z "$non2xx" ] || { echo "non-2xx answers on $1: $non2xx" >&2; exit 1; }
  echo "$out" | awk '/Requests per second/ {print $4}'
}
echo "start: rss_kb=$(rss)"
hit /dashboard "$WARMUP" >/dev/null
base=$(rss); echo "after warm-up ($WARMUP /dashboard): rss_kb=$base"
done_n=0
while [ "$done_n" -lt "$DASH" ]; do
  rps=$(hit /dashboard "$STEP"); done_n=$((done_n + STEP))
  echo "/dashboard $done_n: rss_kb=$(rss) (+$(( $(rss) - base )) KB) req_per_s=$rps"
done
base_p=$(rss); done_n=0
while [ "$done_n" -lt "$PIPE" ]; do
  n=$(( PIPE < 1000 ? PIPE : 1000 ))
  rps=$(hit /pipeline "$n"); done_n=$((done_n + n))
  echo "/pipeline $done_n: rss_kb=$(rss) (+$(( $(rss) - base_p )) KB) req_per_s=$rps"
done
