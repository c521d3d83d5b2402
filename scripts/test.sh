#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks formatting and
# lints, builds once (the `ci` profile of Cargo.toml), then runs the unit, integration and
# browser tests and the image smoke test on that one build.
#
# Why the `ci` profile: one optimised build serves all four (the backfill-heavy tests run
# several times faster than in debug), without the release profile's thin LTO and
# opt-level 3, which made each of the test binaries a long link (about 20 min of a cold
# run). The Dockerfile keeps the release profile. See BENCHMARKS, "Build and CI time".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log() { printf '\033[1;32m[test]\033[0m %s\n' "$*" >&2; }
START=$(date +%s)
phase() { log "$1 ($(( $(date +%s) - START )) s since start)"; }

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

# The tools (browser, npm and PyPI packages, wasm-bindgen) install while the checks and
# lints below run: they need none of them.
phase "tools (in the background) and the checks"
ensure_wasm_target
( scripts/setup.sh 2>&1 | sed -u 's/^/[tools] /' >&2 ) &
TOOLS_PID=$!
trap 'kill "$TOOLS_PID" 2>/dev/null || true' EXIT

log "cargo fmt --check"
cargo fmt --all --check

log "no file-level import cycle in pipeline/src or app/src"
python3 scripts/check-import-cycles.py pipeline app

log "the vendored tachys patch is applied (cargo only warns when it is not)"
scripts/check-vendor-patch.sh

# The front end's lint runs in its own target folder (the one scripts/build.sh builds it
# in), beside the server crates' lint: two cargo runs, no shared lock.
phase "clippy (server crates, all targets; front end, wasm32, at the same time)"
( cargo clippy --locked -p frontend --target wasm32-unknown-unknown \
    --target-dir "$CARGO_TARGET_DIR/front" -- -D warnings 2>&1 | sed -u 's/^/[clippy-wasm] /' >&2 ) &
CLIPPY_WASM_PID=$!
cargo clippy --locked --workspace --exclude frontend --all-targets -- -D warnings
wait "$CLIPPY_WASM_PID" || { log "clippy (front end) failed: see the [clippy-wasm] lines"; exit 1; }

phase "waiting for the tools"
wait "$TOOLS_PID" || { log "tool set-up failed: see the [tools] lines"; exit 1; }
trap - EXIT

phase "build (server and test binaries, profile ci, and front end)"
SITE="$(scripts/build.sh --profile ci | tail -n 1)"

phase "cargo test (profile ci)"
cargo test --locked --profile ci --workspace --exclude frontend --lib --bins --tests

phase "browser tests (Playwright + Chromium against the ci build)"
(
  cd end2end
  DATAMAG_BIN="$CARGO_TARGET_DIR/ci/datamag360" DATAMAG_SITE_ROOT="$SITE" \
    ./node_modules/.bin/playwright test
)
phase "image contents smoke test (the same ci build, binary + site only)"
DATAMAG_SMOKE_PROFILE=ci scripts/smoke-image.sh

log "all tests passed in $(( $(date +%s) - START )) s"
