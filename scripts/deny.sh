#!/usr/bin/env bash
# Checks the dependency tree against deny.toml with cargo-deny: licenses, banned crates,
# sources, and (with NLQ_DENY_ADVISORIES=1, where GitHub is reachable) RustSec advisories.
# Installs cargo-deny the first time (several minutes of compiling) into a cache outside the
# clone, like CI's target directory, so each fresh clone does not build it again:
# NLQ_TOOLS_DIR, default ~/.cache/nlq/tools.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="0.18.9"
tools="${NLQ_TOOLS_DIR:-$HOME/.cache/nlq/tools}"
install_root="$tools/cargo-deny-$version"
bin="$install_root/bin/cargo-deny"
if [ ! -x "$bin" ]; then
  echo "deny.sh: installing cargo-deny $version into $install_root" >&2
  # Its own target directory: the tool's dependencies are not the workspace's.
  cargo install --locked "cargo-deny@$version" --root "$install_root" \
    --target-dir "$install_root/build"
  rm -rf "$install_root/build"
fi
checks=(bans licenses sources)
if [ "${NLQ_DENY_ADVISORIES:-0}" = 1 ]; then
  checks+=(advisories)
fi
cd "$root"
"$bin" --log-level warn check "${checks[@]}"
