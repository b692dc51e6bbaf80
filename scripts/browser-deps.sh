#!/usr/bin/env bash
# What the server's end-to-end tests need, installed once: Debian's Chromium (the browser the
# chat page is tested in) and a CJK font for its Korean, playwright-core from npm (drives it; into the test's own
# node_modules) and schemathesis from PyPI (checks the API against its OpenAPI spec; into
# .deps/schemathesis-venv). Prints the schemathesis executable's path on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "browser-deps.sh: $*" >&2; }

if ! command -v chromium >/dev/null 2>&1; then
  log "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; }
fi

# Korean text needs a CJK font, or Chromium draws boxes (the chat page speaks Korean).
if ! fc-list :lang=ko 2>/dev/null | grep -q .; then
  log "installing Debian's fonts-noto-cjk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends fonts-noto-cjk >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends fonts-noto-cjk >&2; }
fi

browser="$root/crates/nlq-server/tests/browser"
stamp="$browser/node_modules/.nlq-stamp"
if [ ! -f "$stamp" ] || [ "$browser/package.json" -nt "$stamp" ]; then
  log "installing playwright-core"
  (cd "$browser" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$stamp"
fi

SCHEMATHESIS_PIN="schemathesis==4.32.5"
venv="$root/.deps/schemathesis-venv"
if [ ! -f "$venv/.nlq-pin" ] || [ "$(cat "$venv/.nlq-pin")" != "$SCHEMATHESIS_PIN" ]; then
  log "installing $SCHEMATHESIS_PIN"
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$SCHEMATHESIS_PIN" >&2
  echo "$SCHEMATHESIS_PIN" > "$venv/.nlq-pin"
fi
echo "$venv/bin/schemathesis"
