#!/usr/bin/env bash
# Builds a relocatable release: a directory (and a .tar.gz of it) with the three binaries in
# bin/, libduckdb in lib/ (the binaries look in $ORIGIN/../lib first, so the directory works
# wherever it is unpacked), the question sets nlq eval reads, and a README.
#
#   scripts/release.sh [--dev] [--out DIR]
#
# --dev assembles from a debug build (fast; what the test suite checks), the default is
# --release. Supported: Linux x86-64 with glibc (the prebuilt libduckdb is that); elsewhere,
# build with `--features nlq-exec/bundled` and copy the binaries yourself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nlq/target}"
profile=release
out="$root/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) profile=dev ;;
    --out) out="$2"; shift ;;
    *) echo "usage: $0 [--dev] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || {
  echo "error: the prebuilt libduckdb is Linux x86-64 only; build with --features nlq-exec/bundled elsewhere" >&2
  exit 1
}

scripts/duckdb-lib.sh
cargo build -q --profile "$profile" -p nlq -p nlq-server-bin -p nlq-metasync-cli
dir_of_profile=$([ "$profile" = dev ] && echo debug || echo release)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name="nlq-$version-linux-x86_64"
stage="$out/.$name.tmp"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib" "$stage/share/questions"
for bin in nlq nlq-server nlq-metasync; do
  cp "$CARGO_TARGET_DIR/$dir_of_profile/$bin" "$stage/bin/"
done
cp .deps/duckdb/libduckdb.so "$stage/lib/"
cp .deps/duckdb/LICENSE "$stage/lib/LICENSE.duckdb"
cp fixtures/questions/*.jsonl fixtures/questions/README.md "$stage/share/questions/"
cat > "$stage/README.md" <<README
# nlq $version (Linux x86-64)

bin/nlq            the CLI: nlq ask "지난 7일 디바이스별 방문자 수", nlq sql, nlq data generate
bin/nlq-server     the HTTP API and chat page (see --help; NLQ_* variables)
bin/nlq-metasync   the metadata job (run it on a schedule)
lib/libduckdb.so   the embedded engine (DuckDB); the binaries find it here by themselves
share/questions/   question sets with gold SQL for nlq eval

The first nlq command generates the GA4 sample into ~/.local/share/nlq/ga4-sample (or
--data-dir). Keep bin/ and lib/ side by side; the directory can live anywhere.
README
# Replaced whole: an interrupted run never leaves half a release under the final name.
rm -rf "$out/$name"
mv "$stage" "$out/$name"
tar -C "$out" -czf "$out/$name.tar.gz.tmp" "$name"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
echo "$out/$name.tar.gz"
