#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: fetches libduckdb, installs and starts the
# BigQuery and GCS emulators (project-local venvs), a PostgreSQL server (Debian's package, a
# cluster in .deps/postgres) for the shared store, Chromium, playwright-core and schemathesis
# for the server's end-to-end tests, generates the small test sample once, loads
# it into the BigQuery emulator, then runs every test of the workspace against them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nlq/target}"

scripts/duckdb-lib.sh
scripts/bqemulator.sh install
scripts/gcs-emulator.sh install
scripts/postgres.sh install
schemathesis=$(scripts/browser-deps.sh)

# The test sample depends on the generator, the schema and the store that imports it: key its
# folder by their content.
key=$(find crates/nlq-sample fixtures/ga4 crates/nlq-exec/src/embedded/store.rs -type f -not -path '*/target/*' | sort | xargs sha1sum | sha1sum | cut -c1-12)
data="$root/.deps/test-sample-$key"
if [ ! -f "$data/ga4.duckdb" ]; then
  rm -rf "$root"/.deps/test-sample-*
  cargo run -q -p nlq --bin nlq -- data generate --scale 0.01 --seed 20201101 --out "$data"
fi
# The second property (issue 19): web and app streams, custom events, user properties.
app_data="$root/.deps/test-app-web-$key"
if [ ! -f "$app_data/ga4.duckdb" ]; then
  rm -rf "$root"/.deps/test-app-web-*
  cargo run -q -p nlq --bin nlq -- data generate --profile app-web --scale 0.02 --seed 20201101 --out "$app_data"
fi

stop_services() {
  scripts/bqemulator.sh stop >/dev/null 2>&1 || true
  scripts/gcs-emulator.sh stop >/dev/null 2>&1 || true
  scripts/postgres.sh stop >/dev/null 2>&1 || true
}
trap stop_services EXIT
# An instance left by an interrupted run would refuse the start.
stop_services
url=$(scripts/bqemulator.sh start)
gcs_url=$(scripts/gcs-emulator.sh start)
database_url=$(scripts/postgres.sh start)
scripts/bqemulator.sh load "$data/parquet" "$url" >&2

NLQ_TEST_DATA_DIR="$data" NLQ_TEST_APP_DATA_DIR="$app_data" NLQ_BQEMU_URL="$url" NLQ_REQUIRE_BQEMU=1 \
  NLQ_GCS_EMU_URL="$gcs_url" NLQ_REQUIRE_GCS_EMU=1 \
  NLQ_TEST_DATABASE_URL="$database_url" NLQ_REQUIRE_POSTGRES=1 \
  NLQ_REQUIRE_BROWSER=1 NLQ_SCHEMATHESIS="$schemathesis" \
  cargo test --workspace --all-targets "$@"

# The relocatable release (issue 20), assembled from the debug build just tested: unpacked in
# another folder, it finds its own libduckdb and answers.
tarball=$(scripts/release.sh --dev --out "$root/target/release-check")
scripts/release-check.sh "$tarball" "$data"
