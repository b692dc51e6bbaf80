#!/usr/bin/env bash
# A PostgreSQL server of the tests' own, for the shared answer store (issue 20): Debian's
# package for the programs, a cluster in a folder of the project's, TCP on 127.0.0.1 only,
# trust authentication (nothing but loopback reaches it), stopped after the tests.
#
#   scripts/postgres.sh install      Debian's postgresql package, when its programs are missing
#   scripts/postgres.sh start        initdb (once) and start; prints the superuser URL (only stdout line)
#   scripts/postgres.sh stop         stop the instance started by `start`
#
# The cluster lives in .deps/postgres. PostgreSQL refuses to run as root, so as root it runs
# as the package's `postgres` user; when that user cannot reach the clone (a clone under a
# private home), the cluster moves to /var/tmp/nlq-postgres-<hash of the clone's path>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

bindir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$found" ] && [ -x "$found/postgres" ] && echo "$found"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cluster_dir() {
  local dir="$root/.deps/postgres"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$root/.deps"; then
    dir="/var/tmp/nlq-postgres-$(echo "$root" | sha1sum | cut -c1-12)"
  fi
  echo "$dir"
}

cmd_install() {
  if bindir >/dev/null; then
    return
  fi
  log "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get install -y --no-install-recommends postgresql >&2 \
    || { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends postgresql >&2; }
  bindir >/dev/null || die "postgresql installed, but no /usr/lib/postgresql/*/bin/postgres"
}

cmd_start() {
  local bin dir port
  bin=$(bindir) || die "not installed: run '$0 install' first"
  mkdir -p "$root/.deps"
  dir=$(cluster_dir)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    log "creating a cluster in $dir/data"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # No Unix socket: its default folder belongs to the system's own cluster.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories= -c fsync=off" start >&2 \
    || { tail -20 "$dir/server.log" >&2; die "the server did not start"; }
  echo "$port" > "$dir/port"
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

cmd_stop() {
  local bin dir
  bin=$(bindir) || return 0
  dir=$(cluster_dir)
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  *) die "usage: $0 install|start|stop" ;;
esac
