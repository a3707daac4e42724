"""Process supervision for ``serve`` (web + ingest service + worker + janitor [+ simulators]),
``worker`` and ``ingest-service``.

The web tier is gunicorn (sync workers by default: fastest on the database path on this
hardware, docs/benchmarks.md); the ingest service commits the web workers' deliveries
together (``hub/ingest/service.py``); the worker is a Huey consumer with threads (gateway calls
are I/O-bound) plus the janitor thread.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from hub.errors import ConfigError
from hub.runtime.config import Config
from hub.runtime.logs import configure_logging

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.hub_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from hub.web.app import create_app

        return create_app(self.hub_config, migrate=False)


def run_worker(config: Config, threads: int | None = None, janitor: bool = True) -> None:
    from hub.runtime.bootstrap import bootstrap
    from hub.work.janitor import JanitorThread, sweep
    from hub.work.queue import HueyDispatcher, make_huey
    from hub.work.runner import drain

    configure_logging(config.hub.log_level)
    hub = bootstrap(config)
    huey = make_huey(config.hub.queue)
    hub.dispatcher = HueyDispatcher(huey, lambda: drain(hub))
    sweeper = JanitorThread(hub) if janitor else None
    if sweeper:
        sweeper.start()
    sweep(hub)  # pick up whatever an earlier run left behind
    consumer = huey.create_consumer(workers=threads or config.hub.worker_threads, worker_type="thread", periodic=False)
    try:
        consumer.run()
    finally:
        if sweeper:
            sweeper.stop()


def run_ingest_service(config: Config) -> None:
    from hub.ingest.service import IngestService
    from hub.ledger.unit import open_database
    from hub.work.queue import HueyDispatcher, make_huey

    configure_logging(config.hub.log_level)
    dispatcher = HueyDispatcher(make_huey(config.hub.queue), lambda: 0)  # only enqueues: no consumer here
    service = IngestService(open_database(config.hub.db_url), config.hub.ingest_socket, dispatcher)
    signal.signal(signal.SIGTERM, lambda *_: service.stop())
    signal.signal(signal.SIGINT, lambda *_: service.stop())
    log.info("ingest service on %s", config.hub.ingest_socket)
    service.serve()


def run_sandbox(config: Config) -> None:
    from hub.sandbox.registry import build_simulators

    configure_logging(config.hub.log_level)
    simulators = [s.start() for s in build_simulators(config)]
    for sim in simulators:
        log.info("simulator %s on %s", sim.name, sim.url)
        print(f"{sim.name:20s} {sim.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for sim in simulators:
        sim.stop()


def serve(
    config: Config,
    bind: str | None = None,
    workers: int | None = None,
    worker_class: str | None = None,
    threads: int | None = None,
) -> None:
    from hub.ledger.unit import open_database

    configure_logging(config.hub.log_level)
    open_database(config.hub.db_url, migrate=True)  # once, before any process starts
    metrics_dir = config.hub.instance_path.resolve() / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    if not config.source:
        raise ConfigError("REFUND_HUB_CONFIG", "serve needs a configuration file (refund-hub init writes one)")
    command = [sys.executable, "-m", "hub", "--config", config.source]
    children: list[subprocess.Popen[bytes]] = []
    if config.sandbox.get("enabled"):
        children.append(subprocess.Popen([*command, "sandbox"]))
        _wait_for_ports(config)
    if config.hub.ingest_service:
        children.append(subprocess.Popen([*command, "ingest-service"]))
        _wait_for_socket(config.hub.ingest_socket, children[-1])
    children.append(subprocess.Popen([*command, "worker", *(["--threads", str(threads)] if threads else [])]))
    address = bind or config.hub.public_url.split("://", 1)[-1].rstrip("/")
    options = {
        "bind": address,
        "workers": workers or config.hub.web_workers,
        "worker_class": worker_class or config.hub.web_worker_class,
        # gunicorn turns sync workers into gthread ones when threads > 1: set threads only for gthread
        **({"threads": 4} if (worker_class or config.hub.web_worker_class) == "gthread" else {}),
        "backlog": 2048,
        "timeout": 30,
        "accesslog": None,
    }
    supervisor = os.getpid()
    try:
        _Gunicorn(config, options).run()
    finally:
        if os.getpid() == supervisor:  # a forked web worker unwinding here owns no children
            _stop(children)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        child.terminate()
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def _wait_for_socket(path: Path, service: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Until the ingest service listens. Without it the web workers store deliveries themselves
    (slower, as safe), so a service that fails to start is reported, not fatal."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if service.poll() is not None or time.monotonic() > deadline:
            log.warning("the ingest service is not running; each web worker stores its own deliveries")
            return
        time.sleep(0.05)


def _wait_for_ports(config: Config, timeout: float = 15.0) -> None:
    host = str(config.sandbox.get("host", "127.0.0.1"))
    deadline = time.monotonic() + timeout
    for port in config.sandbox.get("ports", {}).values():
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex((host, int(port))) == 0:
                    break
            time.sleep(0.1)
