#!/usr/bin/env bash
# README command 1: set up and run the hub on the embedded default (SQLite, in-process worker,
# built-in simulators), fire the demo deliveries at it, print what happened.
#   bash scripts/quickstart.sh          # keeps the hub running until Ctrl-C
#   bash scripts/quickstart.sh --once   # stops it after the demo (CI)
#   bash scripts/quickstart.sh --reset  # starts over: a new demo/refund-hub.toml and an empty database
# A second run keeps demo/refund-hub.toml (its keys and admin token) and the data of the first.
set -euo pipefail
once=false
reset=false
for arg in "$@"; do
  case "$arg" in
    --once) once=true ;;
    --reset) reset=true ;;
    *) echo "usage: bash scripts/quickstart.sh [--once] [--reset]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
[ -x .venv/bin/refund-hub ] || { python3 -m venv .venv && .venv/bin/pip install --quiet --upgrade pip \
  && .venv/bin/pip install --quiet -e .; }
mkdir -p demo
cd demo
if $reset; then
  rm -f refund-hub.toml instance/refund-hub.db* instance/queue.db*
fi
[ -f refund-hub.toml ] || ../.venv/bin/refund-hub init >/dev/null
../.venv/bin/refund-hub migrate >/dev/null
../.venv/bin/refund-hub serve > hub.log 2>&1 &
hub_pid=$!
trap 'kill $hub_pid 2>/dev/null; wait $hub_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -fsS http://127.0.0.1:8000/healthz >/dev/null 2>&1 && break; sleep 0.5; done
../.venv/bin/refund-hub demo
echo "console: create the first owner with 'cd demo && ../.venv/bin/refund-hub user add you@example.com --all-stores',"
echo "         then log in at http://127.0.0.1:8000/login"
if ! $once; then
  echo "hub running on http://127.0.0.1:8000 (admin token in demo/refund-hub.toml); Ctrl-C stops it"
  wait $hub_pid
fi
