#!/usr/bin/env bash
# Issue 26's alert benchmarks, on the release build (an otherwise idle machine is best):
#   1. detection scored against the simulator's truth over one year of the default chain;
#   2. the same over one month of the 1,000-store synthetic chain, with the cost of each
#      detection run against the hourly and nightly jobs' own times (from the ledger);
#   3. the original profile with incidents off over a clean year: every alert it raises;
#   4. the baselines' group-by medians, polars against plain Rust (issue 26, point 6;
#      only on a commit that still has polars: the example left with it).
#
#   scripts/bench-alerts.sh [all|year|chain1000|original|polars]
#
# Environment: YEAR (default 2025), MONTH (default 2025-11: the 1,000-store month),
# DIR (default /tmp/bench-alerts; the data dirs are kept, a rerun reuses them),
# SKIP_BUILD=1 to use the binaries already built.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
year="${YEAR:-2025}"
month="${MONTH:-2025-11}"
dir="${DIR:-/tmp/bench-alerts}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/datamag360/target}"
bench="$target/release/examples/bench_alerts"
polars_bench="$target/release/examples/bench_baseline_polars"

say() { printf '\n== %s (%s)\n' "$*" "$(uptime | sed 's/^ *//')"; }

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  say "building (release)"
  examples=(--example bench_alerts)
  [[ -f pipeline/examples/bench_baseline_polars.rs ]] && examples+=(--example bench_baseline_polars)
  cargo build --locked --release -p pipeline "${examples[@]}"
fi

month_end="$(date -u -d "$month-01 +1 month -1 day" +%F)"

case "$what" in all|year)
  say "1. default chain, $year, incidents on"
  "$bench" "$dir/default-$year" "$year-01-01" "$year-12-31" ;;
esac
case "$what" in all|chain1000)
  say "2. 1,000-store chain, $month, incidents on"
  "$bench" "$dir/chain1000-$month" "$month-01" "$month_end" --stores 1000 --history-days 63 ;;
esac
case "$what" in all|original)
  say "3. original profile, incidents off, $year"
  "$bench" "$dir/original-$year" "$year-01-01" "$year-12-31" --original --incidents off ;;
esac
case "$what" in all|polars)
  if [[ -x "$polars_bench" && -f pipeline/examples/bench_baseline_polars.rs ]]; then
    say "4. baselines: polars against plain Rust"
    "$polars_bench" 7
  else
    say "4. skipped: polars left the project (figures in BENCHMARKS.md)"
  fi ;;
esac
