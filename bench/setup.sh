#!/usr/bin/env bash
# Everything the benchmarks need on a fresh Debian machine, in one command:
#   bash bench/setup.sh            # wrk (apt), .venv with the project and its test extras, PostgreSQL + Redis
#   bash bench/setup.sh --sqlite   # the same without PostgreSQL and Redis (every bench runs on SQLite alone)
# Then: .venv/bin/python bench/<name>.py (or python bench/<name>.py: it re-executes in .venv).
set -euo pipefail
services=true
for arg in "$@"; do
  case "$arg" in
    --sqlite) services=false ;;
    *) echo "usage: bash bench/setup.sh [--sqlite]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! command -v wrk >/dev/null 2>&1; then  # bench/ingest.py drives the webhook endpoint with it
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
if $services; then
  bash scripts/services.sh
fi
echo "benches ready: wrk $(command -v wrk >/dev/null && echo yes || echo MISSING), venv .venv"
