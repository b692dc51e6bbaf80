#!/usr/bin/env bash
# Fetches the prebuilt libduckdb that the duckdb crate links against (see .cargo/config.toml)
# into .deps/duckdb. The library ships inside DuckDB's official Node bindings package on the
# npm registry; its version must match the duckdb crate's (=1.10506.1 is DuckDB 1.5.6).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=1.5.6-r.1
sha256=3f4962cdd266eab2b479a5b5a4a6d063d279b2954ae814ed00385d553b747633
dest="$root/.deps/duckdb"

if [ -f "$dest/libduckdb.so" ] && echo "$sha256  $dest/libduckdb.so" | sha256sum -c --status; then
  exit 0
fi
command -v npm >/dev/null || { echo "error: npm is needed to fetch libduckdb (or build with --features bundled)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching libduckdb $version ..." >&2
(cd "$tmp" && npm pack --silent "@duckdb/node-bindings-linux-x64@$version" >/dev/null 2>&1)
tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp" package/libduckdb.so package/LICENSE
echo "$sha256  $tmp/package/libduckdb.so" | sha256sum -c --status || {
  echo "error: libduckdb.so checksum mismatch" >&2; exit 1; }
mkdir -p "$dest"
mv "$tmp/package/LICENSE" "$dest/LICENSE"
mv "$tmp/package/libduckdb.so" "$dest/libduckdb.so.tmp"
mv "$dest/libduckdb.so.tmp" "$dest/libduckdb.so"
