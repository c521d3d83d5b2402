#!/usr/bin/env bash
# Delivery benchmark on the build scripts/run.sh serves (debug server, size-optimised
# front end): builds it, backfills a fresh data folder, serves it, and measures in Chromium
# (Playwright) the time from navigation start to a hydrated dashboard (cold cache and
# reload), the wasm bytes transferred, and the bytes a reload transfers.
#   scripts/bench-delivery.sh            (BENCH_RUNS=7 visits; E2E_PORT to move the port)
# Prints one BENCH {...} JSON line. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
SITE="$(scripts/build.sh | tail -n 1)"
echo "load before: $(uptime)" >&2
cd end2end
DATAMAG_BIN="$CARGO_TARGET_DIR/debug/datamag360" DATAMAG_SITE_ROOT="$SITE" \
  ./node_modules/.bin/playwright test --config bench.config.ts --reporter=list 2>&1 | grep -E "BENCH|passed|failed|Error" 
echo "load after: $(uptime)" >&2
