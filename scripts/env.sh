# Sourced by the other scripts: where builds and tools live (outside the clone, so that
# fresh clones reuse them), and PATH for the pinned tools.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/datamag360/target}"
export DATAMAG_TOOLS="${DATAMAG_TOOLS:-$HOME/.cache/datamag360/tools}"
export PATH="$DATAMAG_TOOLS/cargo/bin:$DATAMAG_TOOLS/node/node_modules/.bin:$PATH"
