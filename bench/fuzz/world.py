"""The hub the fuzz run drives: the embedded default (``write_starter``) in a temp folder, its
simulators built by ``hub.sandbox.registry`` and started on 127.0.0.1 (PayPal's verification, the
Adobe I/O Events signing keys and the worker's fetches go to them), the real SQLite database,
and the WSGI app driven in-process through werkzeug's test ``Client``.

The simulators never post webhooks of their own here (``webhook_url`` is cleared): every stored
delivery is one the fuzzer sent. The Magento store gets the simulator's Commerce Webhooks public
key, so the plain webhook channel can be signed too."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from hub.cli.starter import MAGENTO_STORE, PORTS, write_starter
from hub.runtime.bootstrap import Hub, NoDispatch, bootstrap, write_key_file
from hub.runtime.config import Config, load_config
from hub.sandbox.base import Simulator
from hub.sandbox.registry import build_simulators


def free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class Captured(logging.Handler):
    """Log records with a traceback from the webhook endpoint and the job runner: a 5xx or a
    worker crash, with what raised."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        found, self.records = self.records, []
        return found


WATCHED_LOGGERS = ("hub.web.webhooks", "hub.work.runner", "hub.pipeline")


@dataclass
class World:
    folder: Path
    config: Config
    hub: Hub
    client: Client
    sims: dict[str, Simulator]
    captured: Captured = field(default_factory=Captured)
    reported_jobs: set[int] = field(default_factory=set)  # crashed jobs already counted (by an endpoint)

    @property
    def hub_url(self) -> str:
        return self.config.hub.public_url.rstrip("/")

    def setting(self, section: str, name: str, key: str) -> Any:
        if section == "stores":
            store = self.config.stores[name]
            return {**store.settings, **store.credentials}.get(key)
        table: dict[str, Any] = getattr(self.config, section)[name]
        return table[key] if isinstance(table, dict) else getattr(table, key)

    def store_of(self, connector: str) -> str:
        return next(sid for sid, s in self.config.stores.items() if s.connector == connector)


def _write_config(folder: Path) -> tuple[Path, dict[str, Any]]:
    hub_port, *sim_ports = free_ports(1 + len(PORTS))
    starter = folder / "starter.toml"
    write_starter(starter, hub_port=hub_port, ports=dict(zip(PORTS, sim_ports, strict=True)))
    raw = tomllib.loads(starter.read_text())
    raw["hub"].update(instance_path=str(folder / "instance"), ingest_service=False, log_level="CRITICAL")
    raw["sandbox"]["enabled"] = False  # this process starts the simulators
    for table in (*raw["gateways"].values(), *raw["connectors"].values()):
        table["timeout"] = 5.0
    path = folder / "refund-hub.json"
    path.write_text(json.dumps(raw, indent=2))
    return path, raw


@contextmanager
def open_world(folder: Path | None = None) -> Iterator[World]:
    """The whole hub in this process; everything it made is removed afterwards (unless ``folder``)."""
    own = folder is None
    root = Path(tempfile.mkdtemp(prefix="refund-hub-fuzz-")) if folder is None else folder
    sims: list[Simulator] = []
    hub: Hub | None = None
    captured = Captured()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    try:
        path, raw = _write_config(root)
        config = load_config(path, env={})
        sims = build_simulators(config)
        by_name = {sim.name: sim for sim in sims}
        magento = by_name.get("magento")
        if magento is not None:  # the plain Commerce Webhooks channel: the store knows the simulator's key
            pem = magento.events.webhook_public_pem  # type: ignore[attr-defined]
            raw["stores"][MAGENTO_STORE].setdefault("settings", {})["webhook_public_keys"] = [pem]
            path.write_text(json.dumps(raw, indent=2))
            config = load_config(path, env={})
        for sim in sims:
            sim.webhook_url = None
            sim.start()
        write_key_file(config.hub.instance_path)
        hub = bootstrap(config, dispatcher=NoDispatch())
        from hub.web.app import create_app

        app = create_app(hub=hub)
        for logger in loggers:
            logger.addHandler(captured)
            logger.setLevel(logging.ERROR)
            logger.propagate = False  # counted and printed by the run, not logged twice
        yield World(root, config, app.extensions["refund_hub"], Client(app), by_name, captured)
    finally:
        for logger in loggers:
            logger.removeHandler(captured)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
        for sim in sims:
            try:
                sim.stop()
            except Exception:  # noqa: BLE001 - a simulator that never started
                pass
        if hub is not None:
            hub.engine.dispose()
        if own:
            shutil.rmtree(root, ignore_errors=True)
