#!/usr/bin/env bash
# Builds the server binary and the site (hydration wasm + JS glue + CSS) with plain cargo:
#   scripts/build.sh            debug build  → $CARGO_TARGET_DIR/debug/datamag360 + $CARGO_TARGET_DIR/site
#   scripts/build.sh --release  release build → $CARGO_TARGET_DIR/release/datamag360 + $CARGO_TARGET_DIR/site-release
# Prints the site folder on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

RELEASE=0
[ "${1:-}" = "--release" ] && RELEASE=1
log() { printf '\033[1;34m[build]\033[0m %s\n' "$*" >&2; }

if [ "$RELEASE" = 1 ]; then
  SERVER_FLAGS=(--release); WASM_PROFILE=wasm-release; SITE="$CARGO_TARGET_DIR/site-release"
else
  SERVER_FLAGS=(); WASM_PROFILE=dev; SITE="$CARGO_TARGET_DIR/site"
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
if [ "$RELEASE" = 1 ]; then
  log "wasm-opt -Oz"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$TMP_SITE/pkg/datamag360_bg.wasm" "$TMP_SITE/pkg/datamag360_bg.wasm"
fi
log "sass"
sass --no-source-map --style=compressed style/main.scss "$TMP_SITE/pkg/datamag360.css"
cp -R public/. "$TMP_SITE/"
rm -rf "$SITE"
mv "$TMP_SITE" "$SITE"
log "site ready: $SITE ($(du -sh "$SITE" | cut -f1))"
echo "$SITE"
