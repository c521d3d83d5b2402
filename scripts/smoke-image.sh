#!/usr/bin/env bash
# "Image contents" smoke test without a Docker engine: builds the server and the site as
# the Dockerfile does (the release profile; DATAMAG_SMOKE_PROFILE=ci, as scripts/test.sh
# sets, reuses CI's one build of the same sources, which differs only in optimisation
# flags), copies only what the image holds (binary + site) into an empty
# folder, starts it from there with the image's environment (HOST=0.0.0.0, no account),
# and checks the home page, the API, that no figure is shown before the first admin exists
# (set-up note, 401 export, the one-time link in the log), the link creating that admin,
# the WebAssembly (hashed name, precompressed, immutable caching), a 304 answer to a
# conditional page request, and a clean SIGTERM stop.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log() { printf '\033[1;35m[smoke]\033[0m %s\n' "$*" >&2; }

PROFILE="${DATAMAG_SMOKE_PROFILE:-release}"
SITE="$(scripts/build.sh --profile "$PROFILE" | tail -n 1)"
IMAGE="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$IMAGE"' EXIT
log "the $PROFILE build of the server"
cp "$CARGO_TARGET_DIR/$PROFILE/datamag360" "$IMAGE/datamag360"
cp -R "$SITE" "$IMAGE/site"
mkdir "$IMAGE/data"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "starting the image layout from $IMAGE on port $PORT"
(
  cd "$IMAGE"
  exec env -i PATH=/usr/bin:/bin HOME="$IMAGE" HOST=0.0.0.0 PORT="$PORT" \
    DATAMAG_SITE_ROOT="$IMAGE/site" DATAMAG_DATA_DIR="$IMAGE/data" DATAMAG_BACKFILL_DAYS=1 \
    LOG_FORMAT=json RUST_LOG=warn ./datamag360 serve > "$IMAGE/log"
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
# The hashed names the pages reference (site/hash.txt, written by scripts/build.sh).
WASM_HASH="$(sed -n 's/^wasm: *//p' "$IMAGE/site/hash.txt")"
JS_HASH="$(sed -n 's/^js: *//p' "$IMAGE/site/hash.txt")"
CSS_HASH="$(sed -n 's/^css: *//p' "$IMAGE/site/hash.txt")"
WASM_URL="$base/pkg/datamag360.$WASM_HASH.wasm"
check "home page (French, hashed script, wasm and stylesheet names)" bash -c "curl -fsS '$base/' > '$IMAGE/home.html' && grep -q 'Interroger le simulateur' '$IMAGE/home.html' && grep -q '/pkg/datamag360.$JS_HASH.js' '$IMAGE/home.html' && grep -q '/pkg/datamag360.$WASM_HASH.wasm' '$IMAGE/home.html' && grep -q '/pkg/datamag360.$CSS_HASH.css' '$IMAGE/home.html'"
check "no account on 0.0.0.0: the dashboard sends to sign-in" bash -c "curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' '$base/dashboard' | grep -q '^303 .*/login'"
check "no account on 0.0.0.0: the sign-in page shows the set-up note" bash -c "curl -fsS '$base/login' | grep -q 'Aucun compte n'"
check "no account on 0.0.0.0: no figure in an export (401)" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$base/export.csv')\" = 401 ]"
check "the one-time set-up link is in the log (JSON)" grep -q '"setup_url":"http://127.0.0.1:' "$IMAGE/log"
SETUP_TOKEN="$(sed -n 's/.*"setup_url":"[^"]*token=\([0-9a-f]*\)".*/\1/p' "$IMAGE/log" | head -n 1)"
check "the set-up link creates the first admin (session cookie)" bash -c "curl -sS -o /dev/null -c '$IMAGE/cookies' -H 'Origin: $base' --data-urlencode 'token=$SETUP_TOKEN' --data-urlencode username=chief --data-urlencode 'password=smoke test password' --data-urlencode 'confirm=smoke test password' '$base/setup' && grep -q dm360_session '$IMAGE/cookies'"
check "dashboard page, signed in" bash -c "curl -fsS -b '$IMAGE/cookies' '$base/dashboard' | grep -q 'Tableau de bord'"
check "API /visiteurs" bash -c "curl -fsS '$base/visiteurs?city_store=PARIS&sensor_id=9&year=2024&month=10&day=14&hour=12' | grep -q '\"is_closed\":false'"
check "WebAssembly served (hashed name, application/wasm)" bash -c "curl -fsS -D - -o '$IMAGE/app.wasm' '$WASM_URL' | grep -qi 'content-type: application/wasm' && head -c 4 '$IMAGE/app.wasm' | od -An -c | grep -q 'a   s   m'"
check "wasm precompressed with brotli (file from disk, immutable for a year)" bash -c "curl -fsS -D '$IMAGE/br.h' -o '$IMAGE/app.wasm.br' -H 'Accept-Encoding: br, gzip' '$WASM_URL' && grep -qi '^content-encoding: br' '$IMAGE/br.h' && grep -qi '^cache-control: public, max-age=31536000, immutable' '$IMAGE/br.h' && cmp -s '$IMAGE/app.wasm.br' '$IMAGE/site/pkg/datamag360.$WASM_HASH.wasm.br'"
check "wasm precompressed with gzip for gzip-only clients" bash -c "curl -fsS -D - -o '$IMAGE/app.wasm.gz' -H 'Accept-Encoding: gzip' '$WASM_URL' | grep -qi '^content-encoding: gzip' && gzip -dc '$IMAGE/app.wasm.gz' | cmp -s - '$IMAGE/app.wasm'"
check "JS glue and CSS served under their hashed names" bash -c "curl -fsS -o /dev/null '$base/pkg/datamag360.$JS_HASH.js' && curl -fsS -o /dev/null '$base/pkg/datamag360.$CSS_HASH.css'"
check "conditional page request answers 304" bash -c "etag=\$(curl -fsS -D - -o /dev/null '$base/' | sed -n 's/^etag: *//Ip' | tr -d '\r') && [ -n \"\$etag\" ] && [ \"\$(curl -s -o /dev/null -w '%{http_code}' -H \"If-None-Match: \$etag\" '$base/')\" = 304 ]"
check "wasm size reported" bash -c "echo \"wasm: \$(wc -c < '$IMAGE/app.wasm') bytes, \$(wc -c < '$IMAGE/app.wasm.br') brotli, \$(wc -c < '$IMAGE/app.wasm.gz') gzip (as served)\" >&2"
kill -TERM "$PID"
check "clean stop on SIGTERM" wait "$PID"
echo "image smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
