#!/usr/bin/env bash
# Local BigQuery emulator (bqemulator, PyPI) for tests: a partial SQL oracle and a REST peer.
#
#   scripts/bqemulator.sh install            project-local .venv with pinned versions (idempotent)
#   scripts/bqemulator.sh start [port]       start on 127.0.0.1; prints the base URL (only stdout line)
#   scripts/bqemulator.sh stop               stop the instance started by `start`
#   scripts/bqemulator.sh status             print the base URL of the running instance, exit 1 if none
#   scripts/bqemulator.sh load <parquet dir> [base url]
#                                            load events_YYYYMMDD.parquet files as
#                                            bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*
#
# Everything lives under the repo root: .venv (virtualenv), .deps/bqemu-home (HOME for the emulator,
# holding DuckDB's spatial extension so its `INSTALL spatial` at start works offline),
# .deps/bqemu.log, .deps/bqemu.pid, .deps/bqemu.url.
# See docs/emulators.md for the known wrong behaviour of bqemulator 1.4.0.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="$ROOT/.venv"
DEPS="$ROOT/.deps"
BQ_HOME="$DEPS/bqemu-home"
LOG="$DEPS/bqemu.log"
PIDFILE="$DEPS/bqemu.pid"
URLFILE="$DEPS/bqemu.url"
PROJECT="nlq-test"
PYTHON="${PYTHON:-python3}"

# Direct pins. Everything else is pinned by scripts/bqemulator-constraints.txt (a `pip freeze` of a
# working install). duckdb-extension-spatial 1.5.5 is the newest with a wheel; it needs duckdb 1.5.5.
# numpy is imported by bqemulator but not declared by it.
PINS=(
  "bqemulator==1.4.0"
  "duckdb==1.5.5"
  "duckdb-extension-spatial==1.5.5"
  "numpy==2.4.6"
)
CONSTRAINTS="$SCRIPT_DIR/bqemulator-constraints.txt"
STAMP="$VENV/.nlq-bqemulator-pins"
HEALTH_TIMEOUT="${BQEMU_START_TIMEOUT:-30}"

die() { echo "bqemulator.sh: $*" >&2; exit 1; }
log() { echo "bqemulator.sh: $*" >&2; }

pin_list() {
  printf '%s\n' "${PINS[@]}"
  if [[ -f "$CONSTRAINTS" ]]; then sha256sum "$CONSTRAINTS" | cut -d' ' -f1; fi
}

spatial_installed() {
  compgen -G "$BQ_HOME/.duckdb/extensions/v1.5.5/*/spatial.duckdb_extension" >/dev/null
}

cmd_install() {
  mkdir -p "$DEPS" "$BQ_HOME"
  if [[ -x "$VENV/bin/bqemulator" && -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(pin_list)" ]]; then
    log "venv up to date ($VENV)"
  else
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    local cargs=()
    [[ -f "$CONSTRAINTS" ]] && cargs=(-c "$CONSTRAINTS")
    log "installing ${PINS[*]} into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${cargs[@]}" "${PINS[@]}" >&2
    pin_list >"$STAMP"
  fi
  if spatial_installed; then
    log "spatial extension present in $BQ_HOME"
  else
    log "installing the DuckDB spatial extension into $BQ_HOME"
    HOME="$BQ_HOME" "$VENV/bin/python" - <<'EOF'
import os, duckdb, duckdb_extension_spatial
ext = os.path.join(os.path.dirname(duckdb_extension_spatial.__file__),
                   "extensions", "v" + duckdb.__version__, "spatial.duckdb_extension")
if not os.path.exists(ext):
    raise SystemExit(f"spatial extension not found at {ext}")
con = duckdb.connect()
con.execute(f"INSTALL '{ext}'")
con.execute("LOAD spatial")
EOF
    spatial_installed || die "spatial extension was not installed under $BQ_HOME/.duckdb"
  fi
}

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

healthy() {
  # GET $1/healthz; succeed on HTTP 2xx with {"status": "ok"} (not just any server on that port)
  "$PYTHON" - "$1/healthz" <<'EOF' 2>/dev/null
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if 200 <= r.status < 300 and json.load(r).get("status") == "ok" else 1)
except Exception:
    sys.exit(1)
EOF
}

log_tail() {
  # the log's error lines, then its last lines, without colour codes
  log "log: $LOG"
  sed 's/\x1b\[[0-9;]*m//g' "$LOG" | grep -iE 'Errno|\[error|^[A-Za-z.]*(Error|Exception):' | tail -n 5 >&2 || true
  echo "--- last lines:" >&2
  sed 's/\x1b\[[0-9;]*m//g' "$LOG" | tail -n 20 >&2
}

cmd_start() {
  [[ -x "$VENV/bin/bqemulator" ]] || die "not installed: run '$0 install' first"
  spatial_installed || die "spatial extension missing under $BQ_HOME: run '$0 install'"
  if pid="$(running_pid)"; then
    die "already running (pid $pid, $(cat "$URLFILE" 2>/dev/null)); run '$0 stop' first"
  fi
  mkdir -p "$DEPS"
  local rest_port="${1:-}" grpc_port
  [[ -n "$rest_port" ]] || rest_port="$(free_port)"
  grpc_port="$(free_port)"
  while [[ "$grpc_port" == "$rest_port" ]]; do grpc_port="$(free_port)"; done
  local url="http://127.0.0.1:$rest_port"
  : >"$LOG"
  # setsid: own process group, so `stop` can end the emulator and anything it spawned.
  HOME="$BQ_HOME" setsid "$VENV/bin/bqemulator" start \
    --rest-host 127.0.0.1 --rest-port "$rest_port" \
    --grpc-host 127.0.0.1 --grpc-port "$grpc_port" \
    --ephemeral --project "$PROJECT" --log-format console \
    </dev/null >>"$LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until kill -0 "$pid" 2>/dev/null && healthy "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      log "emulator exited during start-up (REST port $rest_port, gRPC port $grpc_port)"
      log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "no healthy answer from $url/healthz within ${HEALTH_TIMEOUT}s"
      log_tail
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.2
  done
  sleep 0.3
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PIDFILE"
    log "emulator exited right after start-up (another server on port $rest_port?)"
    log_tail
    exit 1
  fi
  echo "$url" >"$URLFILE"
  echo "$url"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE" "$URLFILE"
    log "not running"
    return 0
  fi
  kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$URLFILE"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && [[ -f "$URLFILE" ]] && healthy "$(cat "$URLFILE")"; then
    cat "$URLFILE"
  else
    log "not running"
    return 1
  fi
}

cmd_load() {
  local dir="${1:-}" url="${2:-}"
  [[ -n "$dir" && -d "$dir" ]] || die "usage: $0 load <parquet dir> [base url]"
  [[ -n "$url" ]] || url="$(cmd_status)" || die "emulator not running: '$0 start' first"
  "$VENV/bin/python" "$SCRIPT_DIR/bqemulator_load.py" --url "$url" \
    --schema "$ROOT/fixtures/ga4/events_schema.ddl" "$dir"
}

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  load) shift; cmd_load "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
