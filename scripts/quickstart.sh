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
# The install: uv when it is on PATH or can be fetched from PyPI (into the user's cache folder,
# never the project's venv), much faster than pip on a fresh machine; pip when neither works.
# Only the hub and its runtime dependencies: the test and bench tools are `pip install -e '.[test]'`.
install() {
  local uv boot="${XDG_CACHE_HOME:-$HOME/.cache}/refund-hub/uv-bootstrap"
  uv=$(command -v uv || true)
  if [ -z "$uv" ] && [ -x "$boot/bin/uv" ]; then
    uv="$boot/bin/uv"
  elif [ -z "$uv" ] && python3 -m pip install --quiet --disable-pip-version-check --target "$boot" uv >/dev/null 2>&1
  then
    uv="$boot/bin/uv"
  fi
  if [ -n "$uv" ] && "$uv" venv --quiet --allow-existing --python "$(command -v python3)" .venv \
      && "$uv" pip install --quiet --compile-bytecode --python .venv/bin/python -e .; then
    return
  fi
  echo "installing with pip (uv was not available)" >&2
  python3 -m venv --clear .venv && .venv/bin/pip install --quiet -e .
}
[ -x .venv/bin/refund-hub ] || install
mkdir -p demo
cd demo
if $reset; then
  rm -f refund-hub.toml instance/refund-hub.db* instance/queue.db*
fi
[ -f refund-hub.toml ] || ../.venv/bin/refund-hub init >/dev/null
../.venv/bin/refund-hub serve > hub.log 2>&1 &
hub_pid=$!
trap 'kill $hub_pid 2>/dev/null; wait $hub_pid 2>/dev/null || true' EXIT
# Until the web tier answers (its workers build the app after forking: slow on a busy machine);
# the demo against a hub that is not up would only time out.
healthy=false
for _ in $(seq 1 360); do
  curl -fsS --max-time 2 http://127.0.0.1:8000/healthz >/dev/null 2>&1 && { healthy=true; break; }
  kill -0 $hub_pid 2>/dev/null || break
  sleep 0.5
done
if ! $healthy; then
  echo "refund-hub serve did not answer on http://127.0.0.1:8000/healthz; the end of demo/hub.log:" >&2
  tail -n 20 hub.log >&2
  exit 1
fi
../.venv/bin/refund-hub demo
echo "console: create the first owner with 'cd demo && ../.venv/bin/refund-hub user add you@example.com --all-stores',"
echo "         then log in at http://127.0.0.1:8000/login"
if ! $once; then
  echo "hub running on http://127.0.0.1:8000 (admin token in demo/refund-hub.toml); Ctrl-C stops it"
  wait $hub_pid
fi
