#!/usr/bin/env bash
# Runs DataMag360 on embedded defaults: installs what is missing, builds, and serves the
# dashboard and the API on http://127.0.0.1:3000 (PORT and HOST override). Ctrl-C stops it.
# Extra arguments go to `datamag360 serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
WANT_BROWSER=0 scripts/setup.sh
SITE="$(scripts/build.sh | tail -n 1)"
exec "$CARGO_TARGET_DIR/debug/datamag360" serve --site-root "$SITE" "$@"
