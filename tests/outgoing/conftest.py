"""A hub with no plugins over a real database, a fake clock, and a real HTTP receiver on
127.0.0.1 that can go down (nothing listens) and come back on the same port."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.runtime.bootstrap import Hub, NoDispatch, bootstrap
from hub.runtime.config import load_config
from hub.runtime.crypto import SecretBox
from tests.hub.conftest import World, make_world
from tests.ledger.conftest import request


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Answers ``status`` to every POST and keeps what it got; ``down()`` closes the socket."""

    status: int = 200
    got: list[Received] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().up()
    yield found
    found.down()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def make_hub(tmp_path: Any, engine: sa.Engine | None = None, **sections: Any) -> Hub:
    """The receivers here listen on 127.0.0.1: private destinations allowed, as in development."""
    data = {
        "hub": {"instance_path": str(tmp_path / "instance"), "secret_keys": [SecretBox.generate_key()]},
        "webhooks": {"allow_private_networks": True},
        **sections,
    }
    return bootstrap(load_config(data=data, env={}), engine=engine, dispatcher=NoDispatch())


@pytest.fixture
def world(tmp_path: Any) -> Iterator[World]:
    """The whole hub with the sandbox platform and gateway (tests/hub/conftest.py); receivers on
    127.0.0.1 allowed."""
    for found in make_world(tmp_path):
        found.hub.hub.config.webhooks.allow_private_networks = True
        yield found


@pytest.fixture
def hub(tmp_path: Any) -> Hub:
    return make_hub(tmp_path)


def requested(hub: Hub, source_ref: str, store_id: str = "s1") -> str:
    """A refund request as intake records it: the refund and its ``requested`` audit entry."""
    with hub.engine.begin() as conn:
        refund_id = ledger.open_refund(
            conn, request(source_ref, store_id=store_id), kind="requested", state=states.REQUESTED
        )[0]
        audit.write(conn, "worker", "requested", refund_id=refund_id, amount=1000, currency="USD")
    return refund_id
