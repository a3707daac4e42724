"""The world the fault run plays in: a configuration, the simulators (in this process, so their
ledgers can be read directly), and the hub as real processes (``refund-hub serve`` plus
``refund-hub worker`` processes) that can be killed with SIGKILL and started again."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.cli.starter import PORTS, write_starter
from hub.runtime.bootstrap import write_key_file
from hub.runtime.config import Config, load_config
from hub.sandbox.base import Simulator
from hub.sandbox.registry import build_simulators
from hub.testing.served import NotServing, wait_healthy

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/11"  # this bench's own Redis database (the tests use 13-15)
ROOT = Path(__file__).resolve().parents[2]

# Short leases and a fast janitor so that a killed worker's refunds are found again within the
# settle period; the gateway and platform clients time out well inside the lease.
HUB_SETTINGS: dict[str, Any] = {
    "lease_seconds": 20,
    "janitor_interval": 2.0,
    "unknown_grace_seconds": 3,
    "worker_threads": 4,
    "web_workers": 3,
    "log_level": "WARNING",
}
CLIENT_TIMEOUT = 3.0  # seconds per gateway call; the TIMEOUT fault outlasts it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Database:
    """Where the hub keeps its ledger and queue: SQLite files (default) or a fresh PostgreSQL
    schema with this bench's Redis database."""

    kind: str
    schema: str | None = None

    @property
    def urls(self) -> dict[str, str]:
        if self.kind != "postgres":
            return {}
        return {"database_url": f"{PG_URL}?options=-csearch_path%3D{self.schema}", "queue_url": REDIS_URL}

    def create(self) -> None:
        if self.kind != "postgres":
            return
        import redis

        self.schema = f"faults_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()

    def drop(self) -> None:
        if self.kind != "postgres" or self.schema is None:
            return
        import redis

        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()


def write_config(folder: Path, database: Database) -> Config:
    """The embedded default (``refund-hub init``'s starter) on free ports, its simulators started
    by this bench instead of ``serve``, with the bench's hub and client settings."""
    starter = folder / "starter.toml"
    hub_port = free_port()
    write_starter(starter, hub_port=hub_port, ports={name: free_port() for name in PORTS})
    raw = tomllib.loads(starter.read_text())
    raw["hub"].update(HUB_SETTINGS, instance_path=str(folder / "instance"), **database.urls)
    raw["sandbox"]["enabled"] = False  # this process runs the simulators: their ledgers are read here
    for account in raw["gateways"].values():
        account["timeout"] = CLIENT_TIMEOUT
    for connector in raw["connectors"].values():
        connector["timeout"] = 5.0
    path = folder / "refund-hub.json"
    path.write_text(json.dumps(raw, indent=2))
    config = load_config(path)
    write_key_file(config.hub.instance_path)  # once, before several processes would race for it
    return config


def start_simulators(config: Config, prepare: Callable[[Simulator], None]) -> dict[str, Simulator]:
    """Every simulator of ``[sandbox.ports]`` by name; ``prepare`` runs before each one serves."""
    sims: dict[str, Simulator] = {}
    for sim in build_simulators(config):
        prepare(sim)
        sims[sim.name] = sim.start()
    return sims


@dataclass
class Process:
    role: str  # serve | worker
    popen: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)
    log: Path | None = None


class Cluster:
    """``refund-hub serve`` (web, ingest service and one worker) and ``extra`` standalone workers.

    A kill is a SIGKILL of one worker process, the one inside ``serve`` included; every killed
    worker is replaced by a standalone ``refund-hub worker``."""

    def __init__(self, config: Config, folder: Path, workers: int) -> None:
        assert config.source
        self.config = config
        self.logs = folder / "logs"
        self.logs.mkdir(exist_ok=True)
        self.command = [sys.executable, "-m", "hub", "--config", config.source]
        self.wanted = max(1, workers)
        self.serve: Process | None = None
        self.workers: list[Process] = []
        self.kills = 0
        self.restarts = 0
        self.crashed: list[str] = []  # workers that exited without being killed: their logs

    @property
    def url(self) -> str:
        return self.config.hub.public_url.rstrip("/")

    def _spawn(self, role: str, *args: str) -> Process:
        path = self.logs / f"{role}-{len(list(self.logs.iterdir()))}.log"
        with path.open("wb") as log:
            popen = subprocess.Popen(
                [*self.command, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return Process(role, popen, log=path)

    def start(self, timeout: float = 60.0) -> None:
        self.serve = self._spawn("serve", "serve")
        self._wait_healthy(timeout)
        inner = self._serve_worker(timeout)
        if inner is not None:
            self.workers.append(inner)
        while len(self.workers) < self.wanted:
            self.workers.append(self._spawn("worker", "worker"))

    def _wait_healthy(self, timeout: float) -> None:
        assert self.serve is not None
        try:
            wait_healthy(self.url, self.serve.popen, timeout)
        except NotServing as exc:
            raise RuntimeError(f"{exc}; see {self.logs}") from None

    def _serve_worker(self, timeout: float) -> Process | None:
        """The ``worker`` child that ``serve`` started (a Popen-like handle on its pid)."""
        assert self.serve is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in _children(self.serve.popen.pid):
                if "worker" in _cmdline(pid):
                    return Process("serve-worker", _Adopted(pid))  # type: ignore[arg-type]
            time.sleep(0.2)
        return None

    def kill_one(self, rng: random.Random) -> str:
        """SIGKILL a random live worker; returns its description."""
        alive = [w for w in self.workers if w.popen.poll() is None]
        if not alive:
            return "none alive"
        victim = rng.choice(alive)
        os.kill(victim.popen.pid, signal.SIGKILL)
        victim.popen.wait()
        self.workers.remove(victim)
        self.kills += 1
        return f"{victim.role} pid {victim.popen.pid} after {time.monotonic() - victim.started:.1f} s"

    def restore(self) -> None:
        """Start standalone workers until ``wanted`` are alive again (also replaces crashed ones)."""
        for gone in [w for w in self.workers if w.popen.poll() is not None]:
            self.crashed.append(f"{gone.role} pid {gone.popen.pid} exited {gone.popen.returncode}: {gone.log}")
        self.workers = [w for w in self.workers if w.popen.poll() is None]
        while len(self.workers) < self.wanted:
            self.workers.append(self._spawn("worker", "worker"))
            self.restarts += 1

    def stop(self) -> None:
        """SIGTERM every process group this cluster started, then SIGKILL whatever is left."""
        groups = [p for p in [*self.workers, *([self.serve] if self.serve else [])] if p.role != "serve-worker"]
        for proc in groups:
            _signal_group(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in groups:
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc.popen.pid, signal.SIGKILL)
            try:
                proc.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.workers = []
        self.serve = None


class _Adopted:
    """A Popen-shaped handle on a process this one did not start itself (serve's worker)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not Path(f"/proc/{self.pid}").exists():
            self.returncode = -9
        if self.returncode is None and _state(self.pid) == "Z":
            self.returncode = -9
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout or 10)
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.returncode if self.returncode is not None else 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
