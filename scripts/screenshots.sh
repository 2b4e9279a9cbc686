#!/usr/bin/env bash
# `make screenshots`: take the README's pictures (scripts/screenshots.json) into docs/images/.
#
# With CIVIC_SCREENSHOT_URL set (and CIVIC_SCREENSHOT_LOGINS, that demo's demo_logins.json), it
# uses that running demo city. Otherwise it starts one of its own, the same as `make run` but on
# port 8130 (CIVIC_SCREENSHOT_PORT) with its chain on 8631 and a fresh var dir
# var/screenshots/, so it never meets a demo on port 8000; it stops that demo when done.
# Each PNG is then squeezed with pngquant when it is installed (`make screenshots` installs it as
# root).
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_PID=""
stop_demo() {
  if [ -n "$DEMO_PID" ]; then
    kill -TERM -- "-$DEMO_PID" 2>/dev/null || true
    wait "$DEMO_PID" 2>/dev/null || true
  fi
}
trap stop_demo EXIT INT TERM

if [ -z "${CIVIC_SCREENSHOT_URL:-}" ]; then
  PORT=${CIVIC_SCREENSHOT_PORT:-8130}
  VAR=var/screenshots
  rm -rf "$VAR" && mkdir -p "$VAR"
  export CIVIC_VAR_DIR="$PWD/$VAR"
  export CIVIC_DID_WEB_HOST="127.0.0.1%3A$PORT" DEBUG=1
  .venv/bin/python manage.py migrate --noinput -v0
  echo "Starting a demo city for the pictures on http://127.0.0.1:$PORT (log: $VAR/demo.log)"
  # its own process group, so stopping it stops the chain, web, workers and observer with it
  CIVIC_PORT=$PORT CIVIC_CHAIN_PORT=${CIVIC_SCREENSHOT_CHAIN_PORT:-8631} \
    setsid bash scripts/run_demo.sh >"$VAR/demo.log" 2>&1 &
  DEMO_PID=$!
  export CIVIC_SCREENSHOT_URL="http://127.0.0.1:$PORT"
  export CIVIC_SCREENSHOT_LOGINS="$CIVIC_VAR_DIR/demo_logins.json"
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$CIVIC_SCREENSHOT_URL/healthz" 2>/dev/null; then break; fi
    if ! kill -0 "$DEMO_PID" 2>/dev/null; then echo "the demo stopped: see $VAR/demo.log"; exit 1; fi
    sleep 1
  done
  curl -fsS -o /dev/null "$CIVIC_SCREENSHOT_URL/healthz"
fi
: "${CIVIC_SCREENSHOT_LOGINS:?set CIVIC_SCREENSHOT_LOGINS to the demo_logins.json of the demo}"
node scripts/screenshots.mjs "$@"
if command -v pngquant >/dev/null; then
  for png in docs/images/*.png; do
    pngquant --force --skip-if-larger --strip --quality 70-95 --output "$png" -- "$png" || true
  done
fi
ls -l docs/images/*.png
