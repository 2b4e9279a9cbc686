#!/usr/bin/env bash
# `make run`: the demo city with every moving part. Ctrl-C (or any process dying) stops them all.
#   1. a local Hardhat EVM node on 127.0.0.1:8545 and the anchor contract (unless ANCHOR_RPC_URL is set)
#   2. a registered demo observer, then the demo seed (accounts, city keys, ledger logs, the open
#      election, the published one with the demo observer's signed report)
#   3. web (gunicorn), Celery worker and beat, and the observer node, under honcho (Procfile.dev)
# CIVIC_PORT (default 8000) and CIVIC_CHAIN_PORT (default 8545) move the web server and the local
# chain, with CIVIC_VAR_DIR another folder, so a second demo (`make screenshots`) runs beside one.
set -euo pipefail
cd "$(dirname "$0")/.."
export CIVIC_PORT=${CIVIC_PORT:-8000}
CHAIN_PORT=${CIVIC_CHAIN_PORT:-8545}
VAR=${CIVIC_VAR_DIR:-var}
mkdir -p "$VAR"
export CIVIC_VAR_DIR=$(cd "$VAR" && pwd)
CHAIN_PID=""
stop_chain() { [ -n "$CHAIN_PID" ] && kill "$CHAIN_PID" 2>/dev/null || true; }
trap stop_chain EXIT INT TERM

if [ -z "${ANCHOR_RPC_URL:-}" ]; then
  # The node starts empty every time: anchors a previous run recorded in var/ were written to
  # another chain (same id 31337, other genesis block), so anchoring marks them other_chain and
  # anchors their checkpoints again on this one (docs/operations.md, "Blockchain anchoring").
  echo "Starting a local Hardhat chain on 127.0.0.1:$CHAIN_PORT (log: $CIVIC_VAR_DIR/hardhat.log)"
  HARDHAT_DISABLE_TELEMETRY_PROMPT=true npx --no-install hardhat node --hostname 127.0.0.1 --port "$CHAIN_PORT" \
    >"$CIVIC_VAR_DIR/hardhat.log" 2>&1 &
  CHAIN_PID=$!
  export ANCHOR_RPC_URL=http://127.0.0.1:$CHAIN_PORT ANCHOR_CHAIN_ID=31337 ANCHOR_CONFIRMATIONS=${ANCHOR_CONFIRMATIONS:-1}
  # Hardhat's first development account: a key published in Hardhat's documentation, holding
  # only test ether on a chain that lives as long as this process. Never used outside the demo.
  export ANCHOR_PRIVATE_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
  export ANCHOR_INTERVAL_S=${ANCHOR_INTERVAL_S:-10}
  ANCHOR_CONTRACT=$(.venv/bin/python manage.py anchor_deploy --if-missing --wait 60)
  export ANCHOR_CONTRACT
  echo "Anchor contract: $ANCHOR_CONTRACT"
fi

.venv/bin/python manage.py ledger_init_logs
.venv/bin/python manage.py identity_init_city_keys

# The demo observer: its own key in its own state folder, registered with the city once. Before
# the seed: the seed has this observer audit the published demo election and post its signed
# report (voting.demo.demo_observer_report reads the key from $CIVIC_VAR_DIR/observer).
export OBSERVER_STATE="$CIVIC_VAR_DIR/observer"
OBSERVER_VKEY=$(.venv/bin/python -m civic_observer init --state "$OBSERVER_STATE" --name demo-observer.civic.invalid 2>/dev/null)
.venv/bin/python manage.py ledger_register_observer --if-missing "$OBSERVER_VKEY"

.venv/bin/python manage.py seed_demo

echo "Serving on http://127.0.0.1:$CIVIC_PORT  (Ctrl-C stops every process)"
.venv/bin/honcho -f Procfile.dev start
