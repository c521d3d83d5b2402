#!/usr/bin/env bash
# Builds the server binary and the site (hydration wasm + JS glue + CSS) with plain cargo:
#   scripts/build.sh            debug server  → $CARGO_TARGET_DIR/debug/datamag360 + $CARGO_TARGET_DIR/site
#   scripts/build.sh --release  release server → $CARGO_TARGET_DIR/release/datamag360 + $CARGO_TARGET_DIR/site-release
#   scripts/build.sh --profile ci  CI's server  → $CARGO_TARGET_DIR/ci/datamag360 + $CARGO_TARGET_DIR/site-ci
#                                  (and every test binary, built with it: see below)
# Either way the front end is the size-optimised one (wasm-release profile + wasm-opt -Oz),
# its files named by content hash (site/hash.txt) and precompressed (.br, .gz) once here.
# DATAMAG_WASM_PROFILE=dev builds the debug wasm instead (quick edit loop, 7+ MB: not for
# serving users). Prints the site folder on its last line.
#
# Three things run at once, since none needs another until the site is assembled: the
# tools (scripts/setup.sh, idempotent: seconds when present; WANT_BROWSER defaults to 0
# here), the server build, and the front-end build. The front end builds in its own target
# folder ($CARGO_TARGET_DIR/front) so that the two cargo runs do not wait on one lock; on
# 2 cores each fills the other's single-threaded stretches (see BENCHMARKS, build time).
# Each job's output is prefixed with its name; the first failure stops the others.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PROFILE=dev
case "${1:-}" in
  "") ;;
  --release) PROFILE=release ;;
  --profile) PROFILE="${2:?--profile needs a name: dev, release or ci}" ;;
  *) echo "usage: scripts/build.sh [--release | --profile dev|release|ci]" >&2; exit 2 ;;
esac
log() { printf '\033[1;34m[build]\033[0m %s\n' "$*" >&2; }

WASM_PROFILE="${DATAMAG_WASM_PROFILE:-wasm-release}"
FRONT_TARGET_DIR="$CARGO_TARGET_DIR/front"
case "$PROFILE" in
  dev) SERVER_FLAGS=(); SITE="$CARGO_TARGET_DIR/site" ;;
  *) SERVER_FLAGS=(--profile "$PROFILE"); SITE="$CARGO_TARGET_DIR/site-$PROFILE" ;;
esac
WASM_DIR=$([ "$WASM_PROFILE" = dev ] && echo debug || echo "$WASM_PROFILE")

# The wasm target first (a no-op once installed): the front-end job needs it at once.
ensure_wasm_target

# job NAME COMMAND...: runs in the background, its output prefixed with [NAME].
PIDS=(); NAMES=()
job() {
  local name="$1"; shift
  ( set -o pipefail; "$@" 2>&1 | sed -u "s/^/[$name] /" >&2 ) &
  PIDS+=("$!"); NAMES+=("$name")
}
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_all INT TERM

START=$(date +%s)
log "tools, server (${SERVER_FLAGS[*]:-debug}) and front end (wasm32, profile $WASM_PROFILE) at once"
job tools env WANT_BROWSER="${WANT_BROWSER:-0}" scripts/setup.sh
if [ "$PROFILE" = ci ]; then
  # CI's one build: the server and every test binary in one cargo run, so that they share
  # one feature resolution (the tests' dev-dependencies change some shared crates'
  # features; a server built alone would compile polars and its dependents a second time).
  job server cargo test --locked --profile ci --no-run --workspace --exclude frontend \
    --lib --bins --tests
else
  job server cargo build --locked -p datamag360 "${SERVER_FLAGS[@]}"
fi
job front cargo build --locked -p frontend --lib --target wasm32-unknown-unknown \
  --profile "$WASM_PROFILE" --target-dir "$FRONT_TARGET_DIR"
for i in "${!PIDS[@]}"; do
  if ! wait "${PIDS[$i]}"; then
    log "${NAMES[$i]} failed (its lines above are prefixed [${NAMES[$i]}])"
    stop_all
    exit 1
  fi
  log "${NAMES[$i]} done after $(( $(date +%s) - START )) s"
done
trap - INT TERM

TMP_SITE="$SITE.tmp"
rm -rf "$TMP_SITE"
mkdir -p "$TMP_SITE/pkg"
log "wasm-bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$TMP_SITE/pkg" --out-name datamag360 \
  "$FRONT_TARGET_DIR/wasm32-unknown-unknown/$WASM_DIR/frontend.wasm"
if [ "$WASM_PROFILE" != dev ]; then
  # wasm-opt (npm's binaryen, a JS build) takes ~20 s: reuse its output while the
  # wasm-bindgen output is unchanged.
  BG="$TMP_SITE/pkg/datamag360_bg.wasm"
  CACHE="$CARGO_TARGET_DIR/wasm-opt-cache"
  KEY="$(echo "gufa $(sha256sum "$BG")" | sha256sum | cut -c1-40)"
  if [ -f "$CACHE/$KEY.wasm" ]; then
    log "wasm-opt -Oz (unchanged input: cached output)"
    cp "$CACHE/$KEY.wasm" "$BG"
  else
    # A second -Oz after GUFA (whole-program flow analysis) saves ~2.4 KB brotli more.
    log "wasm-opt -Oz --gufa -Oz"
    wasm-opt -Oz --gufa -Oz --enable-bulk-memory --enable-nontrapping-float-to-int -o "$BG.opt" "$BG"
    mv "$BG.opt" "$BG"
    rm -rf "$CACHE"; mkdir -p "$CACHE"
    cp "$BG" "$CACHE/$KEY.wasm"
  fi
fi
log "sass"
sass --no-source-map --style=compressed style/main.scss "$TMP_SITE/pkg/datamag360.css"
cp -R public/. "$TMP_SITE/"
log "content hashes and precompression (brotli, gzip)"
FAST=(); [ "$WASM_PROFILE" = dev ] && FAST=(--fast)
node scripts/site-assets.mjs "$TMP_SITE" datamag360 "${FAST[@]}"
rm -rf "$SITE"
mv "$TMP_SITE" "$SITE"
log "site ready: $SITE ($(du -sh "$SITE" | cut -f1)) after $(( $(date +%s) - START )) s"
echo "$SITE"
