"""A hub served as a real process tree (``refund-hub serve``, a bench's server): wait until it
answers ``/healthz`` and stop it with everything it started. Tests, benches and the fault drill
share these, each turning ``NotServing`` into its own kind of failure."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests


class NotServing(RuntimeError):
    """The process exited, or never answered ``/healthz`` in time; the message ends with its log."""


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path | None = None) -> None:
    """Return once ``{url}/healthz`` answers 2xx; raise ``NotServing`` if the process exits first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotServing(f"the server exited with {process.returncode}{_tail(log)}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise NotServing(f"no answer from {url}/healthz in {timeout:.0f} s{_tail(log)}")


def stop_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (``serve`` stops its children), then SIGKILL to whatever is left in its session —
    the process must have been started with ``start_new_session=True``: only what the caller started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


def _tail(log: Path | None) -> str:
    return f":\n{log.read_text(errors='replace')[-4000:]}" if log is not None and log.exists() else ""
