#!/usr/bin/env bash
# Issue 29's newcomer figure: how long `scripts/run.sh` takes, from a fresh clone, until
# `/health` answers. For a cold figure, point CARGO_TARGET_DIR and DATAMAG_TOOLS at empty
# folders (or run it on a new machine) and leave the machine otherwise idle.
#
#   scripts/bench-newcomer.sh [PORT]      (default 3999)
#
# Prints the seconds to the first answer, and the build's own phase lines (tools, server,
# front end, site) from its log; then stops the server.
set -euo pipefail
port="${1:-3999}"
src="$(cd "$(dirname "$0")/.." && pwd)"
clone="$(mktemp -d)"
log="$clone.log"
git clone -q "$src" "$clone"
start=$(date +%s)
(cd "$clone" && PORT="$port" exec setsid scripts/run.sh > "$log" 2>&1) &
pid=$!
trap 'kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "run.sh stopped: see $log" >&2; exit 1; fi
  sleep 1
done
echo "/health answered after $(( $(date +%s) - start )) s (fresh clone of $(git -C "$src" rev-parse --short HEAD))"
grep -a 'done after\|site ready' "$log" | sed 's/\x1b\[[0-9;]*m//g'
