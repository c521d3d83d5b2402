#!/usr/bin/env bash
# Runs DataMag360 on embedded defaults: installs what is missing, builds, and serves the
# dashboard and the API on http://127.0.0.1:3000 (PORT and HOST override). Ctrl-C stops it.
# Extra arguments go to `datamag360 serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# build.sh installs the missing tools (no browser) while it builds the server and the front end.
SITE="$(WANT_BROWSER=0 scripts/build.sh | tail -n 1)"
exec "$CARGO_TARGET_DIR/debug/datamag360" serve --site-root "$SITE" "$@"
