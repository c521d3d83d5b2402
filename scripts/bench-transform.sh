#!/usr/bin/env bash
# Issue 15's benchmarks, on the release build (run it on an otherwise idle machine):
#   1. the nightly transform of one 1,000-store weekday, SQLite then PostgreSQL (median of RUNS);
#   2. a 1,000-store year through the real pipeline (`datamag360 backfill`, synthetic chain),
#      wall time and peak RSS; its data dir is kept (the dashboard benchmarks serve it);
#   3. the 2-year default-chain backfill, wall time and peak RSS.
#
#   scripts/bench-transform.sh [all|transform|year|two-years]
#
# Environment: RUNS (default 15), BENCH_PG_URL (admin URL, default
# postgres://postgres@127.0.0.1:5432/postgres; the PostgreSQL part is skipped when it does
# not answer), YEAR_DIR (default /tmp/bench-1000y), TWO_YEARS_DIR (default
# /tmp/bench-2y-transform), SKIP_BUILD=1 to use the binaries already built,
# BACKFILL_WITH=example to run the backfills through `examples/bench_backfill` (the same
# `Pipeline::backfill` call as `datamag360 backfill`, without building the server).
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
runs="${RUNS:-15}"
pg_admin="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
year_dir="${YEAR_DIR:-/tmp/bench-1000y}"
two_dir="${TWO_YEARS_DIR:-/tmp/bench-2y-transform}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/datamag360/target}"
bin="$target/release/datamag360"
bench="$target/release/examples/bench_transform"
bench_backfill="$target/release/examples/bench_backfill"

say() { printf '\n== %s (%s)\n' "$*" "$(uptime | sed 's/^ *//')"; }

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  say "building (release)"
  # One invocation, so that the binary and the example share one feature set.
  if [[ "${BACKFILL_WITH:-}" == example ]]; then
    cargo build --locked --release -p pipeline --example bench_transform --example bench_backfill
  else
    cargo build --locked --release -p datamag360 -p pipeline --example bench_transform
  fi
fi

yesterday="$(date -u -d yesterday +%F)"

transform() {
  say "1a. transform of one 1,000-store weekday, SQLite ($runs runs)"
  local dir
  dir="$(mktemp -d /tmp/bench-transform-XXXXXX)"
  "$bench" "$runs" "$dir"
  rm -rf "$dir"
  if command -v psql >/dev/null && psql "$pg_admin" -qAtc 'SELECT 1' >/dev/null 2>&1; then
    say "1b. transform of one 1,000-store weekday, PostgreSQL ($runs runs)"
    local db="bench_transform_$$"
    psql "$pg_admin" -qc "CREATE DATABASE $db"
    local url="${pg_admin%/*}/$db"
    dir="$(mktemp -d /tmp/bench-transform-XXXXXX)"
    BENCH_DATABASE_URL="$url" "$bench" "$runs" "$dir" || true
    rm -rf "$dir"
    psql "$pg_admin" -qc "DROP DATABASE $db WITH (FORCE)"
  else
    echo "PostgreSQL not reachable at $pg_admin: skipped"
  fi
}

# One backfill under /usr/bin/time -v: wall time, peak RSS, and the ledger's per-job sums.
backfill() {
  local dir="$1" from="$2"
  shift 2
  rm -rf "$dir"
  if [[ "${BACKFILL_WITH:-}" == example ]]; then
    local stores=()
    [[ "${1:-}" == --synthetic-stores ]] && stores=("$2")
    /usr/bin/time -v "$bench_backfill" "$from" "$yesterday" "$dir" "${stores[@]}" \
      2> "$dir.time.log"
  else
    /usr/bin/time -v "$bin" backfill --from "$from" --to "$yesterday" --data-dir "$dir" "$@" \
      2> "$dir.time.log"
  fi
  grep -E 'Elapsed|Maximum resident|Percent of CPU|User time|System time' "$dir.time.log"
  python3 - "$dir/warehouse.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for job, n, total, mean, top in db.execute(
    "SELECT job, COUNT(*), SUM(duration_ms), AVG(duration_ms), MAX(duration_ms) "
    "FROM job_ledger GROUP BY job ORDER BY job"):
    print(f"  {job:<9} {n:>6} partitions  sum {total/1e3:8.1f} s  mean {mean:7.1f} ms  max {top} ms")
EOF
  du -sh "$dir"
}

year() {
  say "2. 1,000-store year through backfill (kept in $year_dir)"
  backfill "$year_dir" "$(date -u -d 'today -365 days' +%F)" --synthetic-stores 1000
}

two_years() {
  say "3. 2-year default-chain backfill"
  backfill "$two_dir" "$(date -u -d 'today -730 days' +%F)"
}

case "$what" in
  all) transform; year; two_years ;;
  transform) transform ;;
  year) year ;;
  two-years) two_years ;;
  *) echo "usage: $0 [all|transform|year|two-years]" >&2; exit 2 ;;
esac
