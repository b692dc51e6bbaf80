#!/usr/bin/env bash
# Load figures for nlq-server (a benchmark, not a test): wrk on loopback against /healthz and a
# repeated (cached) question on POST /api/query, 64 connections each; prints requests/s, p99,
# errors and the server's peak memory (VmHWM).
#
#   scripts/bench-server.sh [data dir]     default: the test sample in .deps (scripts/test.sh makes it)
#
# Needs wrk (Debian's package; installed when missing) and a release build, made here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nlq/target}"
data="${1:-$(ls -d "$root"/.deps/test-sample-* 2>/dev/null | head -1)}"
[ -n "$data" ] || { echo "bench-server.sh: no data dir; run scripts/test.sh once or pass one" >&2; exit 2; }
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >&2
DURATION="${DURATION:-20s}"
CONNECTIONS=64

scripts/duckdb-lib.sh
cargo build -q --release -p nlq-server-bin --bin nlq-server
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
db=$(mktemp -d)
"$CARGO_TARGET_DIR/release/nlq-server" --bind "127.0.0.1:$port" --data-dir "$data" --db "$db/a.sqlite" \
  --requests-per-minute 100000000 --workers 2 >"$db/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$db"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

cat >"$db/query.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"question": "지난 7일 디바이스별 방문자 수"}'
LUA
# Warm the answer cache: the figures are for the repeated question.
curl -sf -X POST -H 'Content-Type: application/json' -d '{"question": "지난 7일 디바이스별 방문자 수"}' \
  "http://127.0.0.1:$port/api/query" >/dev/null

report() {
  local name=$1 out=$2
  local rps p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  printf '%-34s %10s req/s   p99 %8s   errors: %s\n' "$name" "$rps" "$p99" "${errors:-none}"
}
report "GET /healthz (c=$CONNECTIONS)" "$(wrk -t2 -c$CONNECTIONS -d"$DURATION" --latency "http://127.0.0.1:$port/healthz")"
report "POST /api/query cached (c=$CONNECTIONS)" "$(wrk -t2 -c$CONNECTIONS -d"$DURATION" --latency -s "$db/query.lua" "http://127.0.0.1:$port/api/query")"
echo "peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
