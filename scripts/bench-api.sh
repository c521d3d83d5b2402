#!/usr/bin/env bash
# API throughput/latency benchmark on loopback, with wrk (apt-get install -y wrk).
#
#   scripts/bench-api.sh
#
# Builds release (`datamag360` and the `bare_axum` example), starts
#   datamag360 serve --port 3901 --site-root /tmp     (the API; no site needed)
#   bare_axum 3902                                    (baseline: constant JSON)
# waits for both to answer, then runs `wrk -t2 -c8 -d10s --latency` against:
#   bare      http://127.0.0.1:3902/                                      (baseline)
#   hour      /visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=9
#   day       /visiteurs?city_store=Paris&year=2024&month=10&day=14  (all sensors, 9h–20h)
#   health    /health
#   bare2     the baseline again, to show drift during the run
# and prints a summary (req/s, latency percentiles, non-2xx, ratio to the baseline) plus the
# server's resident memory (VmRSS) after start-up and after the load. Both servers are
# killed on exit. Raw wrk outputs are kept in $BENCH_OUT (printed at the end).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (8),
# BENCH_WARMUP (2s), BENCH_NO_BUILD=1 (use the binaries already built), BENCH_SCHEDULER=1
# (keep the server's scheduled jobs on), BENCH_RUST_LOG (info), BENCH_API_PORT (3901),
# BENCH_BARE_PORT (3902), BENCH_OUT, CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

DURATION="${BENCH_DURATION:-10s}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-8}"
WARMUP="${BENCH_WARMUP:-2s}"
API_PORT="${BENCH_API_PORT:-3901}"
BARE_PORT="${BENCH_BARE_PORT:-3902}"
OUT="${BENCH_OUT:-$CARGO_TARGET_DIR/bench-api/$(date +%Y%m%d-%H%M%S)}"
log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bench]\033[0m %s\n' "$*" >&2; exit 1; }

command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v curl >/dev/null || die "curl not found"
mkdir -p "$OUT"

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "cargo build --release -p datamag360 --examples --bins (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  cargo build --release -p datamag360 --examples --bins >&2
fi
SERVER="$CARGO_TARGET_DIR/release/datamag360"
BARE="$CARGO_TARGET_DIR/release/examples/bare_axum"
[ -x "$SERVER" ] || die "missing $SERVER"
[ -x "$BARE" ] || die "missing $BARE"

for port in "$API_PORT" "$BARE_PORT"; do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
    die "port $port already answers: stop whatever listens there first"
  fi
done

SERVER_PID=""
BARE_PID=""
cleanup() {
  for pid in $SERVER_PID $BARE_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $SERVER_PID $BARE_PID; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server at its default log level (info), text logs to a file; run from $OUT with its
# data directory there and no external warehouse or lake, so that the benchmark touches
# nothing else. Versions with a scheduler run without it unless BENCH_SCHEDULER=1
# (a background backfill would compete with the API for the two cores); versions
# without one ignore these variables.
SCHEDULER_ENV=(DATAMAG_NO_SCHEDULER=true)
[ "${BENCH_SCHEDULER:-0}" = 1 ] && SCHEDULER_ENV=(DATAMAG_NO_SCHEDULER=false)
(cd "$OUT" && exec env -u DATABASE_URL -u DATAMAG_LAKE_URL RUST_LOG="${BENCH_RUST_LOG:-info}" \
  DATAMAG_DATA_DIR="$OUT/data" "${SCHEDULER_ENV[@]}" \
  "$SERVER" serve --host 127.0.0.1 --port "$API_PORT" --site-root /tmp \
  >"$OUT/server.log" 2>&1) &
SERVER_PID=$!
"$BARE" "$BARE_PORT" >"$OUT/bare.log" 2>&1 &
BARE_PID=$!

wait_for() { # url pid
  local i
  for i in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || die "server (pid $2) exited; see $OUT/*.log"
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  die "no answer from $1 after 10 s"
}
wait_for "http://127.0.0.1:$API_PORT/health" "$SERVER_PID"
wait_for "http://127.0.0.1:$BARE_PORT/" "$BARE_PID"
sleep 1
rss_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
RSS_START=$(rss_kib "$SERVER_PID" VmRSS)
BARE_RSS_START=$(rss_kib "$BARE_PID" VmRSS)
log "servers up: datamag360 pid $SERVER_PID (VmRSS $RSS_START KiB), bare_axum pid $BARE_PID (VmRSS $BARE_RSS_START KiB)"

API="http://127.0.0.1:$API_PORT"
TARGETS=(
  "bare|http://127.0.0.1:$BARE_PORT/"
  "hour|$API/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=9"
  "day|$API/visiteurs?city_store=Paris&year=2024&month=10&day=14"
  "health|$API/health"
  "bare2|http://127.0.0.1:$BARE_PORT/"
)

# One request to each, shown, so that a benchmark of an error page does not go unnoticed.
for t in "${TARGETS[@]}"; do
  name=${t%%|*}; url=${t#*|}
  code=$(curl -s -o "$OUT/$name.body" -w '%{http_code}' "$url")
  log "$name → HTTP $code $(head -c 160 "$OUT/$name.body")"
  [ "$code" = 200 ] || die "$name answered HTTP $code"
done

log "warm-up ($WARMUP each)"
for url in "http://127.0.0.1:$BARE_PORT/" "${TARGETS[1]#*|}"; do
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null
done

compilers() { ps -eo comm= | grep -cxE 'rustc|cargo|clippy-driver|rustdoc|cc1|cc1plus|ld|ld.lld|rust-lld|wasm-opt' || true; }
OTHER_BUILDS=$(compilers)
log "load before the runs: $(uptime | sed 's/.*load average/load average/'); compiler processes: $OTHER_BUILDS"
for t in "${TARGETS[@]}"; do
  name=${t%%|*}; url=${t#*|}
  log "wrk -t$THREADS -c$CONNS -d$DURATION --latency $name"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$OUT/$name.wrk"
done
OTHER_BUILDS_AFTER=$(compilers)
LOAD_AFTER=$(uptime | sed 's/.*load average/load average/')

sleep 2
RSS_AFTER=$(rss_kib "$SERVER_PID" VmRSS)
RSS_PEAK=$(rss_kib "$SERVER_PID" VmHWM)
BARE_RSS_AFTER=$(rss_kib "$BARE_PID" VmRSS)

# wrk figures: requests/s, latency percentiles in ms, non-2xx count, socket errors.
to_ms() { awk -v v="$1" 'BEGIN {
  n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
  printf "%.3f", n }'; }
field() { # file key → value
  case "$2" in
    rps) awk '/^Requests\/sec:/ { print $2 }' "$1" ;;
    p50|p75|p90|p99) awk -v p="${2#p}%" '$1 == p { print $2 }' "$1" ;;
    max) awk '$1 == "Latency" && NF >= 4 { print $4; exit }' "$1" ;;
    non2xx) awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1" ;;
    errors) awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$1" ;;
  esac
}
BARE_RPS=$(field "$OUT/bare.wrk" rps)
BARE_P99=$(to_ms "$(field "$OUT/bare.wrk" p99)")

{
  echo
  echo "DataMag360 API benchmark — $(date -Iseconds)"
  echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, loopback; server and wrk share the machine"
  echo "compiler processes running: $OTHER_BUILDS before, $OTHER_BUILDS_AFTER after; $LOAD_AFTER"
  echo
  printf '%-7s %12s %9s %9s %9s %9s %9s %8s %10s %10s\n' \
    run req/s p50_ms p75_ms p90_ms p99_ms max_ms non2xx 'vs bare' 'p99/bare'
  for t in "${TARGETS[@]}"; do
    name=${t%%|*}
    f="$OUT/$name.wrk"
    rps=$(field "$f" rps)
    p99=$(to_ms "$(field "$f" p99)")
    printf '%-7s %12.0f %9s %9s %9s %9s %9s %8s %9.2fx %9.2fx\n' "$name" "$rps" \
      "$(to_ms "$(field "$f" p50)")" "$(to_ms "$(field "$f" p75)")" \
      "$(to_ms "$(field "$f" p90)")" "$p99" "$(to_ms "$(field "$f" max)")" \
      "$(field "$f" non2xx | grep . || echo 0)" \
      "$(awk -v a="$rps" -v b="$BARE_RPS" 'BEGIN { print a / b }')" \
      "$(awk -v a="$p99" -v b="$BARE_P99" 'BEGIN { print a / b }')"
    errs=$(field "$f" errors)
    [ -z "$errs" ] || echo "        socket errors: $errs"
  done
  echo
  mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }
  echo "datamag360 VmRSS: $(mb "$RSS_START") after start-up, $(mb "$RSS_AFTER") idle after the load (peak VmHWM $(mb "$RSS_PEAK"))"
  echo "bare_axum  VmRSS: $(mb "$BARE_RSS_START") after start-up, $(mb "$BARE_RSS_AFTER") after the load"
  echo
  HOUR_RPS=$(field "$OUT/hour.wrk" rps)
  HOUR_P99=$(to_ms "$(field "$OUT/hour.wrk" p99)")
  verdict() { [ "$1" = 1 ] && echo met || echo MISSED; }
  echo "targets (hour = /visiteurs … hour=12&sensor_id=9):"
  echo "  ≥ 20000 req/s at $CONNS connections:  $(printf '%.0f' "$HOUR_RPS")  $(verdict "$(awk -v a="$HOUR_RPS" 'BEGIN { print (a >= 20000) }')")"
  echo "  p99 < 2 ms:                       $HOUR_P99 ms  $(verdict "$(awk -v a="$HOUR_P99" 'BEGIN { print (a < 2) }')")"
  echo "  within 2× of bare axum (req/s):   $(awk -v a="$BARE_RPS" -v b="$HOUR_RPS" 'BEGIN { printf "%.2f×", a / b }')  $(verdict "$(awk -v a="$BARE_RPS" -v b="$HOUR_RPS" 'BEGIN { print (a <= 2 * b) }')")"
  echo "  idle VmRSS < 80 MB:               $(mb "$RSS_AFTER")  $(verdict "$(awk -v a="$RSS_AFTER" 'BEGIN { print (a * 1024 < 80e6) }')")"
  echo
  echo "raw outputs: $OUT"
} | tee "$OUT/summary.txt"
