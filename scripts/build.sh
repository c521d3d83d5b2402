#!/usr/bin/env bash
# Builds the server binary and the site (hydration wasm + JS glue + CSS) with plain cargo:
#   scripts/build.sh            debug server  → $CARGO_TARGET_DIR/debug/datamag360 + $CARGO_TARGET_DIR/site
#   scripts/build.sh --release  release server → $CARGO_TARGET_DIR/release/datamag360 + $CARGO_TARGET_DIR/site-release
# Either way the front end is the size-optimised one (wasm-release profile + wasm-opt -Oz),
# its files named by content hash (site/hash.txt) and precompressed (.br, .gz) once here.
# DATAMAG_WASM_PROFILE=dev builds the debug wasm instead (quick edit loop, 7+ MB: not for
# serving users). Prints the site folder on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

RELEASE=0
[ "${1:-}" = "--release" ] && RELEASE=1
log() { printf '\033[1;34m[build]\033[0m %s\n' "$*" >&2; }

WASM_PROFILE="${DATAMAG_WASM_PROFILE:-wasm-release}"
if [ "$RELEASE" = 1 ]; then
  SERVER_FLAGS=(--release); SITE="$CARGO_TARGET_DIR/site-release"
else
  SERVER_FLAGS=(); SITE="$CARGO_TARGET_DIR/site"
fi
WASM_DIR=$([ "$WASM_PROFILE" = dev ] && echo debug || echo "$WASM_PROFILE")

log "server (${SERVER_FLAGS[*]:-debug})"
cargo build --locked -p datamag360 "${SERVER_FLAGS[@]}" >&2
log "front end (wasm32, profile $WASM_PROFILE)"
cargo build --locked -p frontend --lib --target wasm32-unknown-unknown --profile "$WASM_PROFILE" >&2

TMP_SITE="$SITE.tmp"
rm -rf "$TMP_SITE"
mkdir -p "$TMP_SITE/pkg"
log "wasm-bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$TMP_SITE/pkg" --out-name datamag360 \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$WASM_DIR/frontend.wasm"
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
log "site ready: $SITE ($(du -sh "$SITE" | cut -f1))"
echo "$SITE"
