#!/usr/bin/env bash
# Fails unless the `[patch.crates-io]` of the root Cargo.toml is applied: every vendored
# crate (vendor/<name>) must be the one in the dependency graph. A Leptos bump that moves
# to a tachys version the vendored copy does not match leaves the patch unused, and cargo
# only warns ("Patch `tachys …` was not used in the crate graph"): the browser's WASM then
# silently grows back by 20 % (see vendor/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
meta="$(cargo metadata --format-version 1 ${CARGO_LOCKED:---locked} 2>"$err")" || {
  cat "$err" >&2
  exit 1
}
if grep -q "was not used in the crate graph" "$err"; then
  cat "$err" >&2
  echo "vendor patch check: a [patch.crates-io] entry is unused (see above)" >&2
  exit 1
fi
if grep -q '^\[\[patch.unused\]\]' Cargo.lock; then
  echo "vendor patch check: Cargo.lock lists an unused patch ([[patch.unused]])" >&2
  exit 1
fi
for dir in vendor/*/; do
  name="$(basename "$dir")"
  [ -f "$dir/Cargo.toml" ] || continue
  # Every package of that name in the graph must be the vendored path crate.
  echo "$meta" | jq -e --arg name "$name" --arg path "$root/vendor/$name/Cargo.toml" '
    [.packages[] | select(.name == $name)] as $p
    | ($p | length) > 0 and all($p[]; .source == null and .manifest_path == $path)
  ' >/dev/null || {
    echo "vendor patch check: $name in the crate graph is not vendor/$name:" >&2
    echo "$meta" | jq -c --arg name "$name" '.packages[] | select(.name == $name) | {id, manifest_path}' >&2
    exit 1
  }
  echo "vendor patch check: $name is vendor/$name" >&2
done
