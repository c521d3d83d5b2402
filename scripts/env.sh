# Sourced by the other scripts: where builds and tools live (outside the clone, so that
# fresh clones reuse them), and PATH for the pinned tools.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/datamag360/target}"
export DATAMAG_TOOLS="${DATAMAG_TOOLS:-$HOME/.cache/datamag360/tools}"
export PATH="$DATAMAG_TOOLS/cargo/bin:$DATAMAG_TOOLS/node/node_modules/.bin:$PATH"

# The Rust target of the hydrated front end (a no-op once installed). Called before any
# front-end cargo run that may start while scripts/setup.sh is still running.
ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    printf '\033[1;34m[setup]\033[0m %s\n' "adding rust target wasm32-unknown-unknown" >&2
    rustup target add wasm32-unknown-unknown >&2
  fi
}
