#!/usr/bin/env bash
# Issue 28's benchmarks, on the release build (an otherwise idle machine is best):
#   1. the 2-year default chain backfilled into DIR/src (kept: a rerun reuses it);
#   2. `datamag360 backup` of it (target < 10 s), then the backup checked by `restore` into
#      a scratch folder;
#   3. `datamag360 rebuild` from its lake alone into an empty warehouse (target < 60 s);
#   4. the dashboard's p95 (all stores, a year) while a backup runs, against the same load
#      just before it (target: the dashboard's own, < 50 ms on the default chain).
#
#   scripts/bench-recovery.sh
#
# Environment: DIR (default /tmp/bench-recovery), TO (default yesterday), PORT (3911),
# SKIP_BUILD=1 to use the release binary already built, BIN=path to time another build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

dir="${DIR:-/tmp/bench-recovery}"
to="${TO:-$(date -d yesterday +%F)}"
from="$(date -d "$to -2 years +1 day" +%F)"
port="${PORT:-3911}"
bin="${BIN:-$CARGO_TARGET_DIR/release/datamag360}"
say() { printf '\n== %s (%s)\n' "$*" "$(uptime | sed 's/^ *//')"; }
timed() { /usr/bin/time -f '   wall %e s, user %U s, system %S s, max RSS %M KB' "$@"; }

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  say "building (release)"
  cargo build --locked --release -p datamag360
fi

say "1. the 2-year default chain, $from → $to, into $dir/src"
mkdir -p "$dir"
timed "$bin" backfill --from "$from" --to "$to" --data-dir "$dir/src"
du -sh "$dir/src" "$dir/src/lake" 2>/dev/null || true

say "2. backup (target < 10 s)"
rm -f "$dir/w.dm360"
timed "$bin" backup --to "$dir/w.dm360" --data-dir "$dir/src"
ls -l "$dir/w.dm360"
rm -rf "$dir/restored"
timed "$bin" restore --from "$dir/w.dm360" --data-dir "$dir/restored"

say "3. rebuild from the lake alone into an empty warehouse (target < 60 s)"
rm -rf "$dir/rebuilt"
timed "$bin" rebuild --data-dir "$dir/rebuilt" --lake-url "file://$dir/src/lake"

say "4. dashboard p95 during a backup"
DATAMAG_AUTH=off RUST_LOG=warn "$bin" serve --no-scheduler --port "$port" --data-dir "$dir/src" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/health" > /dev/null; do sleep 0.2; done
python3 scripts/bench-dashboard-during.py "$port" "$to" 20 \
  "$bin" backup --to "$dir/w2.dm360" --data-dir "$dir/src"
