#!/usr/bin/env bash
# Clones this repository's committed HEAD into an empty temporary folder, with nothing beside
# it, and builds every test target there, as a user who cloned nlq alone would. CI once passed
# only because its clone had the team's shared/ folder next to it (issue 15).
#
#   scripts/fresh-clone-check.sh           cargo test --workspace --all-targets --no-run
#   scripts/fresh-clone-check.sh --full    the README's test command (scripts/test.sh) instead
#
# The clone shares CARGO_TARGET_DIR, so dependencies are not built again. Cargo names a
# workspace crate's artifacts by its path relative to the workspace, so two clones would share
# them too, and whichever builds second could reuse the other's (seen: a test built in one
# clone printed the other's CARGO_MANIFEST_DIR; a file missing from the new clone went
# unnoticed). A pass-through RUSTC_WORKSPACE_WRAPPER, which cargo hashes into the workspace
# crates' artifact names only, keeps the clone's crates apart from the working copy's. It is
# `env`, not a shell script: sh drops variables whose names are not shell names, such as
# CARGO_BIN_EXE_nlq-server, and the tests that read it would not compile (seen). A fixed path
# means each run replaces the previous run's artifacts instead of adding more.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=build
case "${1:-}" in
  "") ;;
  --full) mode=full ;;
  *) echo "usage: $0 [--full]" >&2; exit 2 ;;
esac
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nlq/target}"
log() { echo "fresh-clone-check: $*" >&2; }

if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  log "warning: uncommitted changes are not part of the check (it clones HEAD)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlq-fresh-clone.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git clone --quiet --no-hardlinks "$root" "$tmp/nlq"
log "cloned $(git -C "$tmp/nlq" rev-parse --short HEAD) into $tmp/nlq"

RUSTC_WORKSPACE_WRAPPER=$(command -v env)
export RUSTC_WORKSPACE_WRAPPER
# A one-off build: incremental state would only fill the disk (it once filled this machine's).
export CARGO_INCREMENTAL=0

cd "$tmp/nlq"
if [ "$mode" = full ]; then
  scripts/test.sh
else
  scripts/duckdb-lib.sh
  cargo test --workspace --all-targets --no-run
fi
log "a clone with nothing beside it builds$([ "$mode" = full ] && echo ' and passes scripts/test.sh')"
