"""``refund-hub serve`` as a real process tree for the tests that need one (the demo, slow clients):
free ports, start it in its own session with a test's environment, wait for ``/healthz``, stop it and
everything it started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.testing.served import NotServing, stop_tree, wait_healthy

ROOT = Path(__file__).resolve().parents[1]


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now (held open together so they differ; released for the hub)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@contextmanager
def serving(config: Path, url: str, *, worker_threads: int = 2, timeout: float = 60.0) -> Iterator[Path]:
    """``serve`` on ``config`` with one web worker (two cores shared by several test runs), up at
    ``url`` until the block ends; yields its log file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_HUB_")}
    env.update(
        REFUND_HUB_HUB__WEB_WORKERS="1", REFUND_HUB_HUB__WORKER_THREADS=str(worker_threads), PYTHONPATH=str(ROOT)
    )
    log = config.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "--config", str(config), "serve"],
            cwd=config.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            wait_healthy(url, process, timeout, log)
        except NotServing as exc:
            pytest.fail(str(exc))
        yield log
    finally:
        stop_tree(process)
