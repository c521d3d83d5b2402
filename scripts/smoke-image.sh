#!/usr/bin/env bash
# "Image contents" smoke test without a Docker engine: performs the release build the
# Dockerfile performs, copies only what the image holds (binary + site) into an empty
# folder, starts it from there with the image's environment, and checks the home page,
# the API, the WebAssembly and a clean SIGTERM stop.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log() { printf '\033[1;35m[smoke]\033[0m %s\n' "$*" >&2; }

SITE="$(scripts/build.sh --release | tail -n 1)"
IMAGE="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$IMAGE"' EXIT
cp "$CARGO_TARGET_DIR/release/datamag360" "$IMAGE/datamag360"
cp -R "$SITE" "$IMAGE/site"
mkdir "$IMAGE/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "starting the image layout from $IMAGE on port $PORT"
(
  cd "$IMAGE"
  exec env -i PATH=/usr/bin:/bin HOME="$IMAGE" HOST=127.0.0.1 PORT="$PORT" \
    DATAMAG_SITE_ROOT="$IMAGE/site" DATAMAG_DATA_DIR="$IMAGE/data" DATAMAG_BACKFILL_DAYS=1 \
    LOG_FORMAT=json RUST_LOG=warn ./datamag360 serve
) &
PID=$!
for _ in $(seq 1 100); do
  if PORT="$PORT" "$IMAGE/datamag360" healthcheck >/dev/null 2>&1; then break; fi
  sleep 0.2
done

passed=0; failed=0
check() { # name, command...
  local name="$1"; shift
  if "$@"; then passed=$((passed + 1)); log "ok   $name"; else failed=$((failed + 1)); log "FAIL $name"; fi
}
base="http://127.0.0.1:$PORT"
check "health check command" env PORT="$PORT" "$IMAGE/datamag360" healthcheck
check "home page (French, hydration script)" bash -c "curl -fsS '$base/' | grep -q 'Interroger le simulateur' && curl -fsS '$base/' | grep -q '/pkg/datamag360.js'"
check "dashboard page" bash -c "curl -fsS '$base/dashboard' | grep -q 'Tableau de bord'"
check "API /visiteurs" bash -c "curl -fsS '$base/visiteurs?city_store=PARIS&sensor_id=9&year=2024&month=10&day=14&hour=12' | grep -q '\"is_closed\":false'"
check "WebAssembly served" bash -c "curl -fsS -D - -o '$IMAGE/app.wasm' '$base/pkg/datamag360_bg.wasm' | grep -qi 'content-type: application/wasm' && head -c 4 '$IMAGE/app.wasm' | od -An -c | grep -q 'a   s   m'"
check "JS glue and CSS served" bash -c "curl -fsS -o /dev/null '$base/pkg/datamag360.js' && curl -fsS -o /dev/null '$base/pkg/datamag360.css'"
check "wasm size reported" bash -c "gzip -9 -c '$IMAGE/app.wasm' | wc -c | xargs -I{} sh -c 'echo \"wasm: \$(wc -c < $IMAGE/app.wasm) bytes, {} gzipped\" >&2'"
kill -TERM "$PID"
check "clean stop on SIGTERM" wait "$PID"
echo "image smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
