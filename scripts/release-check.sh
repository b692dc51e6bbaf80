#!/usr/bin/env bash
# Unpacks a release tarball (scripts/release.sh) in an empty folder elsewhere and runs it from
# there: libduckdb must resolve to the release's own lib/, `nlq sql` must answer, and
# nlq-server must serve /healthz and /metrics.
#
#   scripts/release-check.sh TARBALL DATA_DIR
set -euo pipefail
tarball=$1
data=$2
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
tar -xzf "$tarball" -C "$tmp"
dir=$(echo "$tmp"/nlq-*)
fail() { echo "release-check: FAIL: $*" >&2; exit 1; }

for bin in nlq nlq-server nlq-metasync; do
  resolved=$(ldd "$dir/bin/$bin" | sed -n 's/.*libduckdb.so => \([^ ]*\).*/\1/p')
  [ -n "$resolved" ] && [ "$(realpath "$resolved")" = "$(realpath "$dir/lib/libduckdb.so")" ] ||
    fail "$bin loads libduckdb from '$resolved', not $dir/lib"
done

out=$(cd "$tmp" && "$dir/bin/nlq" --data-dir "$data" sql --format csv \
  "SELECT COUNT(DISTINCT event_name) AS events FROM \`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*\` WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210107'")
case "$out" in events$'\n'[0-9]*) ;; *) fail "nlq sql answered: $out" ;; esac

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$dir/bin/nlq-server" --bind "127.0.0.1:$port" --data-dir "$data" --db "$tmp/answers.sqlite" \
  --log-format json 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$tmp/server.log" >&2; fail "nlq-server did not answer /healthz"; }
curl -sf "http://127.0.0.1:$port/metrics" | grep -q '^nlq_http_requests_total' || fail "no metrics at /metrics"
echo "release-check: $(basename "$dir") runs from $dir: libduckdb from its lib/, nlq sql, nlq-server /healthz and /metrics" >&2
