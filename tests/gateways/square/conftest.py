"""Fixtures for the Square adapter tests: a live simulator, a webhook inbox, the adapter, factories."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from gateways.square import SquareGateway
from gateways.square.sim import SquareSimulator
from hub.contracts import Execution, Inbound, RefundLookup
from hub.sandbox.simserver import SimulatorServer
from hub.testing import executions
from hub.testing.openapi import OpenApi
from hub.testing.signing import inbound

SPEC_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "specs" / "square_refunds.json"
DISPUTES_SPEC_PATH = SPEC_PATH.with_name("square_disputes.json")


@dataclass
class Inbox:
    """A tiny HTTP endpoint standing in for the hub's ``/webhooks/gateway/square`` route."""

    url: str
    received: list[Inbound] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Inbound]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")


@pytest.fixture(scope="session")
def _servers() -> Iterator[tuple[Inbox, SquareSimulator]]:
    # One simulator and inbox for the session: stopping a werkzeug server takes ~0.5 s.
    app = Flask("square-webhook-inbox")
    server = SimulatorServer(app)
    box = Inbox(url=f"{server.url}/webhooks/gateway/square")

    @app.post("/webhooks/gateway/square")
    def _receive() -> tuple[str, int]:
        item = inbound(request.get_data(), dict(request.headers), url=request.url)
        with box.lock:
            box.received.append(item)
        return "", 200

    server.start()
    simulator = SquareSimulator(webhook_url=box.url).start()
    assert isinstance(simulator, SquareSimulator)
    yield box, simulator
    simulator.stop()
    server.stop()


@pytest.fixture
def own_sim() -> Iterator[SquareSimulator]:
    """A simulator of the test's own, for tests that take it down."""
    simulator = SquareSimulator()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def settle_after() -> float:
    return 0.0


@pytest.fixture
def sim(_servers: tuple[Inbox, SquareSimulator], settle_after: float) -> SquareSimulator:
    """The shared simulator with every switch back at its default (payments are per test)."""
    box, simulator = _servers
    simulator.faults.clear()
    simulator.faults.latency = 0.0
    simulator.declined_inline = 0
    simulator.block_while_pending = False
    simulator.ledger.settle_after = settle_after
    simulator.ledger.fail_next_refunds = 0
    simulator.webhook_url = box.url
    simulator.notification_url = None
    simulator.exchanges.clear()
    with box.lock:
        box.received.clear()
    return simulator


@pytest.fixture
def inbox(_servers: tuple[Inbox, SquareSimulator], sim: SquareSimulator) -> Inbox:
    return _servers[0]


@pytest.fixture
def settings(sim: SquareSimulator) -> dict[str, Any]:
    # No SDK retries by default: its backoff sleeps at least a second.
    return {**sim.hub_settings(), "max_retries": 0, "timeout": 2}


@pytest.fixture
def gateway(settings: dict[str, Any]) -> SquareGateway:
    return SquareGateway("square-main", settings)


@pytest.fixture
def make_execution() -> Callable[..., Execution]:
    return executions.execution


@pytest.fixture
def lookup_for() -> Callable[..., RefundLookup]:
    return executions.lookup_for


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """Poll ``probe`` until it returns something truthy (no timed assertions, just a ceiling)."""

    def poll(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.02)

    return poll


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def spec() -> OpenApi:
    return OpenApi.load(SPEC_PATH)


@pytest.fixture(scope="session")
def disputes_spec() -> OpenApi:
    return OpenApi.load(DISPUTES_SPEC_PATH)
