"""What every bench needs before its own imports: the project's virtualenv, and plain words when
a tool or a service it wants is missing (``bash bench/setup.sh`` installs them all).

``python bench/X.py`` with a python outside the project's ``.venv`` re-executes the same command
with ``.venv/bin/python`` when that exists, so the benches run the same way from any shell.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
SETUP = "bash bench/setup.sh"


def reexec() -> None:
    """Run this process again inside ``.venv`` unless it already runs there (or there is none)."""
    python = VENV / "bin" / "python"
    if not python.exists() or Path(sys.prefix).resolve() == VENV.resolve():
        return
    if os.environ.get("REFUND_HUB_BENCH_REEXEC"):  # the venv's python is not what it claims: stop here
        return
    os.environ["REFUND_HUB_BENCH_REEXEC"] = "1"
    os.execv(str(python), [str(python), *sys.argv])


def missing_tool(name: str) -> str | None:
    """None when ``name`` is on PATH, else the sentence that says how to get it."""
    if shutil.which(name):
        return None
    return f"{name} is not installed (it is what drives the load): run `{SETUP}` or `sudo apt-get install {name}`"


def service_down(host: str, port: int, what: str) -> str | None:
    """None when something listens on host:port, else the sentence that says how to start it."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        if probe.connect_ex((host, port)) == 0:
            return None
    return f"{what} is not running on {host}:{port}: run `{SETUP}` (or `bash scripts/services.sh start`)"


def postgres_down() -> str | None:
    return service_down("127.0.0.1", 5432, "PostgreSQL")


def redis_down() -> str | None:
    return service_down("127.0.0.1", 6379, "Redis")


def databases_ready(wanted: set[str] | list[str]) -> None:
    """Stop with a sentence when a wanted setup's services are down (SQLite needs none)."""
    if "postgres" in wanted:
        for problem in (postgres_down(), redis_down()):
            if problem:
                stop_unless(f"{problem}; or run only SQLite: --databases sqlite")


def stop_unless(problem: str | None) -> None:
    """End the bench with the sentence (exit status 2) instead of a traceback."""
    if problem:
        print(f"cannot run: {problem}", file=sys.stderr)
        raise SystemExit(2)
