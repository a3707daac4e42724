"""A whole hub in a test: real database, real Flask app served on 127.0.0.1, real plugins.

    with HubHarness(tmp_path, connectors={...}, gateways={...}, stores={...}) as h:
        sim.webhook_url = h.url + "/webhooks/shopify"
        ...                       # make the simulator fire webhooks
        h.settle()                # run worker + janitor until nothing is left to do
        assert h.refunds()[0].state == "written_back"

Work is run in the test's thread (``drain``/``sweep``) so tests are deterministic; nothing
runs in the background except the HTTP server and the simulators' webhook senders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, Row, select

from hub.db.engine import reading
from hub.db.tables import audit, deliveries, jobs, refunds
from hub.runtime.bootstrap import Hub, NoDispatch, bootstrap
from hub.runtime.config import load_config
from hub.runtime.crypto import SecretBox
from hub.sandbox.simserver import SimulatorServer


class Sent(Protocol):
    """One webhook a simulator sent (or is sending)."""

    @property
    def done(self) -> threading.Event: ...


class Sender(Protocol):
    """A simulator's webhook sender, as ``settle`` watches it."""

    @property
    def history(self) -> Sequence[Sent]: ...


class HubHarness:
    def __init__(
        self,
        tmp_path: Path,
        *,
        connectors: Mapping[str, Mapping[str, Any]] | None = None,
        gateways: Mapping[str, Mapping[str, Any]] | None = None,
        stores: Mapping[str, Mapping[str, Any]] | None = None,
        policies: Mapping[str, Mapping[str, Any]] | None = None,
        database_url: str | None = None,
        engine: Engine | None = None,
        hub_settings: Mapping[str, Any] | None = None,
        plugins: Mapping[str, Any] | None = None,
    ) -> None:
        data = {
            "hub": {
                "instance_path": str(tmp_path / "instance"),
                "secret_keys": [SecretBox.generate_key()],
                "admin_token": "test-admin-token",
                "unknown_grace_seconds": 0,
                "lease_seconds": 30,
                **({"database_url": database_url} if database_url else {}),
                **dict(hub_settings or {}),
            },
            "connectors": {k: dict(v) for k, v in (connectors or {}).items()},
            "gateways": {k: dict(v) for k, v in (gateways or {}).items()},
            "stores": {k: dict(v) for k, v in (stores or {}).items()},
            "policies": {k: dict(v) for k, v in (policies or {}).items()},
        }
        self.config = load_config(data=data, env={})
        given = dict(plugins or {})
        self.hub: Hub = bootstrap(
            self.config,
            engine=engine,
            dispatcher=NoDispatch(),
            connectors={k: v for k, v in given.items() if k in self.config.connectors},
            gateways={k: v for k, v in given.items() if k in self.config.gateways},
        )
        from hub.web.app import create_app

        self.app = create_app(hub=self.hub)
        self.client = self.app.test_client()
        self._server: SimulatorServer | None = None

    @property
    def url(self) -> str:
        """The hub served over real HTTP (started on first use), for simulators to call."""
        if self._server is None:
            self._server = SimulatorServer(self.app).start()
        return self._server.url

    def settle(
        self,
        *,
        senders: Sequence[Sender] = (),
        timeout: float = 20.0,
        sweep: bool = True,
        until: Callable[[], bool] | None = None,
    ) -> None:
        """Run the worker and janitor until queues, simulator senders and ``until`` are quiet."""
        from hub.work.janitor import sweep as janitor_sweep
        from hub.work.runner import drain

        deadline = time.monotonic() + timeout
        idle_rounds = 0
        while time.monotonic() < deadline:
            ran = drain(self.hub)
            if sweep:
                counts = janitor_sweep(self.hub)
                ran += counts["runnable"] + counts["resent"] + counts["polled"]
            busy = any(not item.done.is_set() for s in senders for item in s.history) or self._jobs_due_soon()
            if ran or busy or (until is not None and not until()):
                idle_rounds = 0
                time.sleep(0.05)
                continue
            idle_rounds += 1
            if idle_rounds >= 2:
                return
            time.sleep(0.05)
        raise TimeoutError("the hub did not settle in time")

    def _jobs_due_soon(self, within: float = 5.0) -> bool:
        """A job retrying with a short backoff is still work in progress, not quiet."""
        soon = datetime.now(UTC) + timedelta(seconds=within)
        with reading(self.hub.engine) as conn:
            waiting = conn.execute(
                select(jobs.c.id).where(jobs.c.state == "ready", jobs.c.run_after <= soon).limit(1)
            ).first()
        return waiting is not None

    def refunds(self) -> list[Row[Any]]:
        with self.hub.engine.begin() as conn:
            return list(conn.execute(select(refunds).order_by(refunds.c.created_at)).all())

    def deliveries(self) -> list[Row[Any]]:
        with self.hub.engine.begin() as conn:
            return list(conn.execute(select(deliveries).order_by(deliveries.c.received_at)).all())

    def audit(self, refund_id: str | None = None) -> list[Row[Any]]:
        query = select(audit).order_by(audit.c.id)
        if refund_id:
            query = query.where(audit.c.refund_id == refund_id)
        with self.hub.engine.begin() as conn:
            return list(conn.execute(query).all())

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.app.extensions["refund_hub_intake"].writer.close()
        self.hub.engine.dispose()

    def __enter__(self) -> HubHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
