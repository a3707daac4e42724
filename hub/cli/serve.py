"""Process supervision for ``serve`` (web + ingest service + worker + janitor [+ simulators]),
``worker`` and ``ingest-service``.

The web tier is gunicorn in a process of its own (``run_web``). Its default worker class is
gevent: every connection is a greenlet, so clients that trickle their headers or never finish
their body cost a few KB each instead of a whole worker (a sync worker serves one connection at a
time: three slow sockets held every worker of a small install and /healthz went silent). Headers
must arrive within ``HEADER_TIMEOUT`` and a body may pause at most ``READ_TIMEOUT`` between
reads; a body that stops short is refused with a JSON 400 (``hub/web/webhooks.py``).
docs/deployment.md has the measurements and the production layout. The web process imports no
part of the app before gunicorn forks: a gevent worker patches the standard library first and only
then loads the app, so psycopg, SQLAlchemy's pool, redis and requests all see the patched modules.
``sync`` and ``gthread`` stay available (``hub.web_worker_class``), for a web tier behind a
proxy that buffers whole requests (nginx does by default).

The ingest service commits the web workers' deliveries together (``hub/ingest/service.py``); the
worker is a Huey consumer with threads (gateway calls are I/O-bound) plus the janitor thread.
"""

from __future__ import annotations

import json
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
from hub.runtime.config import Config, load_config
from hub.runtime.logs import configure_logging

log = logging.getLogger(__name__)

# Seconds for a request's headers to arrive, counted from the connection (or the previous answer
# on a kept-alive one); also how long an idle kept-alive connection stays open (gunicorn's
# ``keepalive``, which bounds header reading in its gevent worker). Webhook senders and proxies
# send their headers in one packet.
HEADER_TIMEOUT = 5
# Seconds a gevent web worker waits for the next bytes of a body (or for a client to take the
# answer) before it gives up on the connection: a short Content-Length ends in a 400, not a hold.
READ_TIMEOUT = 5.0
# Modules that must not be imported in the web master before it forks gevent workers: each one
# fixes a blocking choice at import time (psycopg picks its wait function, the pools their locks).
APP_STACK = ("flask", "hub.web", "psycopg", "redis", "requests", "sqlalchemy", "huey", "httpx")


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


def _gevent_worker() -> type:
    """gunicorn's gevent worker with a read timeout on every client socket (gunicorn's own makes
    the socket blocking: a body that never completes would hold its greenlet for ever). Header
    reading is bounded by gunicorn itself (``keepalive``). gunicorn calls this in the web master,
    which thereby imports gevent but patches nothing; each worker patches before loading the app."""
    from gunicorn.workers.base_async import AsyncWorker
    from gunicorn.workers.ggevent import GeventWorker

    class HubGeventWorker(GeventWorker):  # type: ignore[misc]
        def handle(self, listener: Any, client: Any, addr: Any) -> None:
            client.settimeout(READ_TIMEOUT)
            AsyncWorker.handle(self, listener, client, addr)

    return HubGeventWorker


def web_options(
    config: Config, bind: str | None = None, workers: int | None = None, worker_class: str | None = None
) -> dict[str, Any]:
    """The gunicorn settings of the web tier (also what bench/slowloris.py exercises)."""
    chosen = worker_class or config.hub.web_worker_class
    options: dict[str, Any] = {
        "bind": bind or config.hub.public_url.split("://", 1)[-1].rstrip("/"),
        "workers": workers or config.hub.web_workers,
        "worker_class": chosen,
        "backlog": 2048,
        "timeout": 30,
        "keepalive": HEADER_TIMEOUT,
        "accesslog": None,
    }
    if chosen == "gthread":  # gunicorn turns sync workers into gthread ones when threads > 1
        options["threads"] = 4
    if chosen == "gevent":
        options["worker_connections"] = 1000  # per worker; slow clients beyond it wait in the backlog
    return options


def run_web(source: str, options: dict[str, Any]) -> None:
    """The web tier: a gunicorn master and its workers, in a process started by ``serve``."""
    config = load_config(source)
    configure_logging(config.hub.log_level)
    settings = dict(options)
    if settings["worker_class"] == "gevent":
        settings["worker_class"] = _gevent_worker
        settings["pre_fork"] = _check_unpatched
    _Gunicorn(config, settings).run()


def _check_unpatched(server: Any, worker: Any) -> None:
    early = sorted(name for name in APP_STACK if name in sys.modules)
    if early:
        log.warning("the web master imported %s before forking gevent workers: they may block", ", ".join(early))


_WEB_BOOT = "import json, sys; from hub.cli.serve import run_web; run_web(sys.argv[1], json.loads(sys.argv[2]))"


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
    from hub.runtime.bootstrap import prepare_database

    configure_logging(config.hub.log_level)
    prepare_database(config)  # once, before any process starts: the web workers skip it
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
    options = web_options(config, bind, workers, worker_class)
    try:
        web = subprocess.Popen([sys.executable, "-c", _WEB_BOOT, config.source, json.dumps(options)])
    except BaseException:
        _stop(children)
        raise
    for signum in _FORWARDED:  # gunicorn's own signals: stop, reload, more or fewer workers
        signal.signal(signum, lambda signum, _frame: web.send_signal(signum))
    try:
        code = web.wait()  # until gunicorn stops (a signal above, or it failed to start)
    finally:
        _stop(children)
    if code:
        raise SystemExit(code if code > 0 else 1)


_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU)


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
