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
#   hourgz    hour again with `Accept-Encoding: gzip` (the response is then compressed)
# in BENCH_ROUNDS interleaved rounds (default 3; medians are reported, since on a shared
# 2-CPU machine one run can land in a different scheduling regime than the next)
# and prints a summary (req/s, latency percentiles, non-2xx, ratio to the baseline) plus the
# server's resident memory (VmRSS) after start-up and after the load. Both servers are
# killed on exit. Raw wrk outputs are kept in $BENCH_OUT (printed at the end).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_ROUNDS (3), BENCH_THREADS (2),
# BENCH_CONNECTIONS (8), BENCH_WARMUP (2s), BENCH_NO_BUILD=1 (use the binaries already
# built), BENCH_PIN=1 (servers on the last CPU, wrk on the others), BENCH_SCHEDULER=1 (keep
# the server's scheduled jobs on), BENCH_RUST_LOG (info), BENCH_API_PORT (3901),
# BENCH_BARE_PORT (3902), BENCH_OUT, CARGO_TARGET_DIR; TOKIO_WORKER_THREADS reaches both
# servers' runtimes. The summary also lists other processes that used > 5 % CPU meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

DURATION="${BENCH_DURATION:-10s}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-8}"
WARMUP="${BENCH_WARMUP:-2s}"
ROUNDS="${BENCH_ROUNDS:-3}"
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

# BENCH_PIN=1: both servers on the last CPU, wrk on the others (default: no pinning,
# the scheduler shares all CPUs between the server's workers and wrk's threads).
SERVER_PIN=()
WRK_PIN=()
PIN_NOTE="no CPU pinning: server workers and wrk threads share all $(nproc) CPUs"
if [ "${BENCH_PIN:-0}" = 1 ]; then
  last=$(( $(nproc) - 1 ))
  [ "$last" -ge 1 ] || die "BENCH_PIN=1 needs at least 2 CPUs"
  SERVER_PIN=(taskset -c "$last")
  WRK_PIN=(taskset -c "0-$((last - 1))")
  PIN_NOTE="pinned: servers on CPU $last, wrk on CPU 0-$((last - 1))"
fi

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
  "${SERVER_PIN[@]}" "$SERVER" serve --host 127.0.0.1 --port "$API_PORT" --site-root /tmp \
  >"$OUT/server.log" 2>&1) &
SERVER_PID=$!
"${SERVER_PIN[@]}" "$BARE" "$BARE_PORT" >"$OUT/bare.log" 2>&1 &
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
  # The same request from a client that accepts gzip (browsers, most HTTP libraries):
  # the server's compression layer then gzips the ~100-byte body.
  "hourgz|$API/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=9"
)
declare -A HEADER=([hourgz]="Accept-Encoding: gzip")
hdr() { if [ -n "${HEADER[$1]:-}" ]; then printf '%s\n' -H "${HEADER[$1]}"; fi; }

# One request to each, shown, so that a benchmark of an error page does not go unnoticed.
for t in "${TARGETS[@]}"; do
  name=${t%%|*}; url=${t#*|}
  mapfile -t h < <(hdr "$name")
  code=$(curl -s "${h[@]}" -D "$OUT/$name.headers" -o "$OUT/$name.body" -w '%{http_code}' "$url")
  enc=$(awk -F': *' 'tolower($1) == "content-encoding" { sub(/\r$/, "", $2); print " [" $2 "]" }' "$OUT/$name.headers")
  if [ -n "$enc" ]; then
    log "$name → HTTP $code, $(wc -c <"$OUT/$name.body") bytes$enc"
  else
    log "$name → HTTP $code $(head -c 160 "$OUT/$name.body")"
  fi
  [ "$code" = 200 ] || die "$name answered HTTP $code"
done

log "warm-up ($WARMUP each)"
for url in "http://127.0.0.1:$BARE_PORT/" "${TARGETS[1]#*|}"; do
  "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null
done

compilers() { ps -eo comm= | grep -cxE 'rustc|cargo|clippy-driver|rustdoc|cc1|cc1plus|ld|ld.lld|rust-lld|wasm-opt' || true; }
# Processes other than ours using CPU during the runs (ps %CPU is a lifetime average, so
# sample /proc twice instead): "pid comm cpu%" over the sampling interval.
cpu_ticks() { # "pid comm utime+stime" for every process (comm may hold spaces)
  cat /proc/[0-9]*/stat 2>/dev/null | awk '{
    o = index($0, "("); for (p = length($0); p > o; p--) if (substr($0, p, 1) == ")") break
    c = substr($0, o + 1, p - o - 1); gsub(/ /, "_", c)
    split(substr($0, p + 2), f, " "); print $1, c, f[12] + f[13] }' | LC_ALL=C sort
}
busy_others() { # seconds
  local a b
  a=$(cpu_ticks || true)
  sleep "$1"
  b=$(cpu_ticks || true)
  # Joined: pid comm ticks comm' ticks'. Ours (the servers, wrk, this script) are left out.
  LC_ALL=C join <(echo "$a") <(echo "$b") | awk -v hz="$(getconf CLK_TCK)" -v s="$1" \
    -v me="$SERVER_PID $BARE_PID $$ $BASHPID" 'BEGIN { split(me, m, " "); for (i in m) skip[m[i]] = 1 }
    !skip[$1] && $4 != "wrk" && ($5 - $3) / hz / s > 0.05 {
      printf "%s%s %s %.0f%%", sep, $1, $4, 100 * ($5 - $3) / hz / s; sep = ", " }' || true
}
OTHER_BUILDS=$(compilers)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the runs: $LOAD_BEFORE; compiler processes: $OTHER_BUILDS"
OTHERS_LOG="$OUT/others.txt"
: >"$OTHERS_LOG"
for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    name=${t%%|*}; url=${t#*|}
    log "round $r/$ROUNDS: wrk -t$THREADS -c$CONNS -d$DURATION --latency $name"
    busy_others 3 >>"$OTHERS_LOG.$name.$r" &
    mapfile -t h < <(hdr "$name")
    "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${h[@]}" "$url" >"$OUT/$name.$r.wrk"
    wait $! || true
    others=$(cat "$OTHERS_LOG.$name.$r"); rm -f "$OTHERS_LOG.$name.$r"
    [ -z "$others" ] || echo "$name round $r: $others" >>"$OTHERS_LOG"
  done
done
OTHER_BUILDS_AFTER=$(compilers)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

sleep 2
RSS_AFTER=$(rss_kib "$SERVER_PID" VmRSS)
RSS_PEAK=$(rss_kib "$SERVER_PID" VmHWM)
BARE_RSS_AFTER=$(rss_kib "$BARE_PID" VmRSS)

# wrk figures: requests/s, latency percentiles in ms, non-2xx count, socket errors.
to_ms() { awk -v v="$1" 'BEGIN {
  n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
  printf "%.3f", n }'; }
field() { # file key → value (latencies in ms)
  case "$2" in
    rps) awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1" ;;
    p50|p75|p90|p99) to_ms "$(awk -v p="${2#p}%" '$1 == p { print $2 }' "$1")" ;;
    max) to_ms "$(awk '$1 == "Latency" && NF >= 4 { print $4; exit }' "$1")" ;;
    non2xx) awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$1" ;;
    errors) awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$1" ;;
  esac
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -g | tail -1; }
over_rounds() { # name key reducer
  for r in $(seq 1 "$ROUNDS"); do field "$OUT/$1.$r.wrk" "$2"; echo; done | grep . | "$3"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k * 1024 / 1e6 }'; }
verdict() { [ "$1" = 1 ] && echo met || echo MISSED; }
BARE_RPS=$(over_rounds bare rps median)
BARE_P99=$(over_rounds bare p99 median)
HOUR_RPS=$(printf '%.0f' "$(over_rounds hour rps median)")
HOUR_P99=$(printf '%.3f' "$(over_rounds hour p99 median)")
HOUR_P99_WORST=$(over_rounds hour p99 maxof)

{
  echo
  echo "DataMag360 API benchmark — $(date -Iseconds)"
  echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, loopback, $ROUNDS interleaved rounds; ${PIN_NOTE}"
  echo "compiler processes: $OTHER_BUILDS before, $OTHER_BUILDS_AFTER after; load average $LOAD_BEFORE before, $LOAD_AFTER after"
  if [ -s "$OTHERS_LOG" ]; then
    echo "other processes busy (> 5% CPU) during the runs:"
    sed 's/^/  /' "$OTHERS_LOG"
  else
    echo "no other process above 5% CPU during the runs"
  fi
  echo
  echo "every run:"
  printf '  %-9s %9s %8s %8s %8s %8s %9s %7s\n' run req/s p50_ms p75_ms p90_ms p99_ms max_ms non2xx
  for r in $(seq 1 "$ROUNDS"); do
    for t in "${TARGETS[@]}"; do
      name=${t%%|*}; f="$OUT/$name.$r.wrk"
      printf '  %-9s %9s %8s %8s %8s %8s %9s %7s\n' "$name.$r" "$(field "$f" rps)" \
        "$(field "$f" p50)" "$(field "$f" p75)" "$(field "$f" p90)" "$(field "$f" p99)" \
        "$(field "$f" max)" "$(field "$f" non2xx)"
      errs=$(field "$f" errors)
      [ -z "$errs" ] || echo "            socket errors: $errs"
    done
  done
  echo
  echo "median over the rounds (ratios to the bare axum handler's medians):"
  printf '  %-7s %9s %8s %8s %9s %10s %9s\n' run req/s p50_ms p99_ms worst_p99 'req/s÷bare' 'p99÷bare'
  for t in "${TARGETS[@]}"; do
    name=${t%%|*}
    rps=$(over_rounds "$name" rps median)
    p99=$(over_rounds "$name" p99 median)
    printf '  %-7s %9.0f %8.3f %8.3f %9.3f %10s %9s\n' "$name" "$rps" \
      "$(over_rounds "$name" p50 median)" "$p99" "$(over_rounds "$name" p99 maxof)" \
      "$(ratio "$rps" "$BARE_RPS")" "$(ratio "$p99" "$BARE_P99")"
  done
  echo
  echo "datamag360 VmRSS: $(mb "$RSS_START") after start-up, $(mb "$RSS_AFTER") idle after the load (peak VmHWM $(mb "$RSS_PEAK"))"
  echo "bare_axum  VmRSS: $(mb "$BARE_RSS_START") after start-up, $(mb "$BARE_RSS_AFTER") after the load"
  echo
  echo "targets (hour = /visiteurs?…&hour=12&sensor_id=9, medians over $ROUNDS rounds):"
  echo "  ≥ 20000 req/s at $CONNS connections:  $HOUR_RPS  $(verdict "$(awk -v a="$HOUR_RPS" 'BEGIN { print (a >= 20000) }')")"
  echo "  p99 < 2 ms:                       $HOUR_P99 ms (worst round $HOUR_P99_WORST ms)  $(verdict "$(awk -v a="$HOUR_P99" 'BEGIN { print (a < 2) }')")"
  echo "  req/s within 2× of bare axum:     bare/hour = $(ratio "$BARE_RPS" "$HOUR_RPS")  $(verdict "$(awk -v a="$BARE_RPS" -v b="$HOUR_RPS" 'BEGIN { print (a <= 2 * b) }')")"
  echo "  p99 within 2× of bare axum:       hour/bare = $(ratio "$HOUR_P99" "$BARE_P99")  $(verdict "$(awk -v a="$HOUR_P99" -v b="$BARE_P99" 'BEGIN { print (a <= 2 * b) }')")"
  echo "  idle VmRSS < 80 MB:               $(mb "$RSS_AFTER")  $(verdict "$(awk -v a="$RSS_AFTER" 'BEGIN { print (a * 1024 < 80e6) }')")"
  echo
  echo "raw outputs: $OUT"
} | tee "$OUT/summary.txt"
