#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks formatting and
# lints, builds once (debug), then runs the unit, integration and browser tests on that build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log() { printf '\033[1;32m[test]\033[0m %s\n' "$*" >&2; }
START=$(date +%s)

scripts/setup.sh

# PostgreSQL for the warehouse tests: this machine kind runs it on 127.0.0.1:5432.
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "PostgreSQL is not answering on 127.0.0.1:5432: trying to start it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
# The foreign Parquet reader (pyarrow) installed by setup.sh.
export DATAMAG_PYTHON="${DATAMAG_PYTHON:-$DATAMAG_TOOLS/py/bin/python}"
# The Azure Blob Storage emulator (Azurite) installed by setup.sh, for the az:// lake test.
export DATAMAG_AZURITE="${DATAMAG_AZURITE:-$DATAMAG_TOOLS/node/node_modules/.bin/azurite-blob}"

log "cargo fmt --check"
cargo fmt --all --check

log "no file-level import cycle in pipeline/src or app/src"
python3 scripts/check-import-cycles.py pipeline app

log "the vendored tachys patch is applied (cargo only warns when it is not)"
scripts/check-vendor-patch.sh

log "clippy (server crates, all targets)"
cargo clippy --locked --workspace --exclude frontend --all-targets -- -D warnings
log "clippy (front end, wasm32)"
cargo clippy --locked -p frontend --target wasm32-unknown-unknown -- -D warnings

log "build (debug)"
SITE="$(scripts/build.sh | tail -n 1)"

log "cargo test"
cargo test --locked --workspace --exclude frontend --lib --bins --tests

log "browser tests (Playwright + Chromium against the real binary)"
(
  cd end2end
  DATAMAG_BIN="$CARGO_TARGET_DIR/debug/datamag360" DATAMAG_SITE_ROOT="$SITE" \
    ./node_modules/.bin/playwright test
)
log "image contents smoke test (release build, binary + site only)"
scripts/smoke-image.sh

log "all tests passed in $(( $(date +%s) - START )) s"
