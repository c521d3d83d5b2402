#!/usr/bin/env bash
# Installs, idempotently, every tool the build and the tests need on a Debian machine
# with access to crates.io, npm and Debian's packages only. Anything already present at
# the right version is skipped, so a warm machine spends a few seconds here.
#
# Tools go outside the clone, under $DATAMAG_TOOLS (default ~/.cache/datamag360/tools),
# so that fresh clones (CI) reuse them.
set -euo pipefail

TOOLS="${DATAMAG_TOOLS:-$HOME/.cache/datamag360/tools}"
WASM_BINDGEN_VERSION="0.2.130"
SASS_VERSION="1.108.2"
BINARYEN_VERSION="132.0.0"
AZURITE_VERSION="3.35.0"

WANT_BROWSER="${WANT_BROWSER:-1}"
# Test-only tools (Azurite, pyarrow); off for `run.sh` and the container build.
WANT_TEST_TOOLS="${WANT_TEST_TOOLS:-$WANT_BROWSER}"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
mkdir -p "$TOOLS"

# 1. Rust target for the hydrated front end.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen CLI, pinned to the wasm-bindgen crate version in Cargo.lock.
WB="$TOOLS/cargo/bin/wasm-bindgen"
if [ ! -x "$WB" ] || [ "$("$WB" --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes on 2 cores)"
  # Not --locked: its lock file names a crate version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$TOOLS/cargo" --force
fi

# 3. sass (stylesheet) and binaryen (wasm-opt, release builds) from npm, in a fixed folder.
NODE_DIR="$TOOLS/node"
if [ ! -x "$NODE_DIR/node_modules/.bin/sass" ] || [ ! -x "$NODE_DIR/node_modules/.bin/wasm-opt" ] \
   || [ "$(node -p "require('$NODE_DIR/node_modules/sass/package.json').version" 2>/dev/null)" != "$SASS_VERSION" ] \
   || [ "$(node -p "require('$NODE_DIR/node_modules/binaryen/package.json').version" 2>/dev/null)" != "$BINARYEN_VERSION" ]; then
  log "installing sass@$SASS_VERSION and binaryen@$BINARYEN_VERSION from npm"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && [ -f package.json ] || echo '{"private":true}' > "$NODE_DIR/package.json")
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
    "sass@$SASS_VERSION" "binaryen@$BINARYEN_VERSION"
fi

if [ "$WANT_TEST_TOOLS" = "1" ]; then
# 3b. Azurite, the Azure Blob Storage emulator the `az://` lake test runs against
#     (bin: azurite-blob). 3.35.0 is the last release that runs on Node.js 20.
if [ ! -x "$NODE_DIR/node_modules/.bin/azurite-blob" ] \
   || [ "$(node -p "require('$NODE_DIR/node_modules/azurite/package.json').version" 2>/dev/null)" != "$AZURITE_VERSION" ]; then
  log "installing azurite@$AZURITE_VERSION from npm"
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || echo '{"private":true}' > "$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error --save-exact "azurite@$AZURITE_VERSION"
fi

# 4. pyarrow, the foreign Parquet reader the tests check our lake files with.
PY="$TOOLS/py"
if [ ! -x "$PY/bin/python" ] || ! "$PY/bin/python" -c "import pyarrow" 2>/dev/null; then
  log "installing pyarrow into $PY (foreign-reader test)"
  python3 -m venv "$PY"
  "$PY/bin/pip" install --quiet --disable-pip-version-check "pyarrow==26.0.1"
fi
# 4b. aiosmtpd, the SMTP server the email alert test sends through (STARTTLS), and the
#     openssl command that makes the test's certificates.
if ! "$PY/bin/python" -c "import aiosmtpd, sys; from importlib.metadata import version; sys.exit(version('aiosmtpd') != '1.4.6')" 2>/dev/null; then
  log "installing aiosmtpd into $PY (email alert test)"
  "$PY/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
fi
if ! command -v openssl >/dev/null; then
  log "installing Debian's openssl (certificates of the email alert test)"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq openssl >/dev/null
fi
fi

# 5. Browser and Playwright for the end-to-end tests (never `npx playwright install`).
if [ "$WANT_BROWSER" = "1" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # Playwright itself, at the version pinned in end2end/package-lock.json.
  E2E="$(cd "$(dirname "$0")/.." && pwd)/end2end"
  if [ ! -x "$E2E/node_modules/.bin/playwright" ] \
     || ! cmp -s "$E2E/package-lock.json" "$E2E/node_modules/.package-lock.json.copy"; then
    log "installing Playwright (npm ci in end2end/, no browser download)"
    (cd "$E2E" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    cp "$E2E/package-lock.json" "$E2E/node_modules/.package-lock.json.copy"
  fi
fi
log "tools ready in $TOOLS"
