"""Fixtures for the PayPal adapter tests: a live simulator, a webhook inbox, the adapter, factories."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from gateways.paypal import PayPalGateway
from gateways.paypal.sim import PayPalSimulator
from hub.contracts import Execution, Inbound, RefundLookup
from hub.sandbox.simserver import SimulatorServer
from hub.testing import executions
from hub.testing.openapi import OpenApi
from hub.testing.signing import inbound

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@dataclass
class Inbox:
    """A small HTTP endpoint standing in for the hub's ``/webhooks/gateway/paypal`` route."""

    url: str = ""
    received: list[Inbound] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Inbound]:
        return wait_until(lambda: self._snapshot() if len(self.received) >= count else None, timeout)

    def _snapshot(self) -> list[Inbound]:
        with self.lock:
            return list(self.received)


def wait_until(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``probe`` until it returns something truthy (no fixed sleeps in the tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"nothing after {timeout}s")


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_until


@pytest.fixture(scope="session")
def _inbox() -> Iterator[Inbox]:
    box = Inbox()
    app = Flask("paypal-inbox")

    @app.post("/webhooks/gateway/paypal")
    def receive() -> tuple[str, int]:
        with box.lock:
            box.received.append(inbound(request.get_data(), dict(request.headers)))
        return "", 200

    server = SimulatorServer(app).start()
    box.url = f"{server.url}/webhooks/gateway/paypal"
    yield box
    server.stop()


@pytest.fixture
def inbox(_inbox: Inbox) -> Inbox:
    with _inbox.lock:
        _inbox.received.clear()
    return _inbox


@pytest.fixture(scope="session")
def _sim(_inbox: Inbox) -> Iterator[PayPalSimulator]:
    """One simulator for the session (stopping a server costs half a second); ``sim`` resets it."""
    simulator = PayPalSimulator(webhook_url=_inbox.url)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(_sim: PayPalSimulator, inbox: Inbox) -> PayPalSimulator:
    _quiet(_sim, inbox)
    _sim.faults.clear()
    _sim.faults.latency = 0.0
    _sim.ledger.settle_after = 0.0
    _sim.ledger.fail_next_refunds = 0
    _sim.webhook_id = "SIMWEBHOOK0000001"
    _sim.exchanges.clear()
    _sim.outbox.clear()
    return _sim


def _quiet(simulator: PayPalSimulator, inbox: Inbox, timeout: float = 5.0) -> None:
    """Let an earlier test's pending refunds settle and its webhooks arrive, then forget them: the
    session's one simulator must not hand this test another test's events."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (
        any(r.status == "pending" and r.settle_at is not None for r in list(simulator.ledger.refunds.values()))
        or any(not sent.done.is_set() for sent in list(simulator.sender.history))
    ):
        time.sleep(0.01)
    with inbox.lock:
        inbox.received.clear()


@pytest.fixture
def slow_sim(sim: PayPalSimulator) -> PayPalSimulator:
    """Refunds stay PENDING for 50 ms, then complete (an eCheck-funded capture)."""
    sim.ledger.settle_after = 0.05
    return sim


@pytest.fixture
def own_sim() -> Iterator[PayPalSimulator]:
    """A simulator of the test's own, for tests that stop it."""
    simulator = PayPalSimulator()
    simulator.start()
    yield simulator
    simulator.stop()


def _gateway(simulator: PayPalSimulator, **overrides: Any) -> Iterator[PayPalGateway]:
    adapter = PayPalGateway("paypal-main", {**simulator.hub_settings(), **overrides})
    yield adapter
    adapter.close()


@pytest.fixture
def gateway(sim: PayPalSimulator) -> Iterator[PayPalGateway]:
    yield from _gateway(sim, timeout=2)


@pytest.fixture
def make_gateway() -> Iterator[Callable[..., PayPalGateway]]:
    made: list[PayPalGateway] = []

    def make(simulator: PayPalSimulator, **overrides: Any) -> PayPalGateway:
        made.append(PayPalGateway("paypal-main", {**simulator.hub_settings(), **overrides}))
        return made[-1]

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def execution() -> Callable[..., Execution]:
    return executions.execution


lookup_of = executions.lookup_for


@pytest.fixture
def as_lookup() -> Callable[..., RefundLookup]:
    return lookup_of


@pytest.fixture(scope="session")
def v2_spec() -> OpenApi:
    return OpenApi.load(FIXTURES / "specs" / "paypal_v2_captures_refund.json")


@pytest.fixture(scope="session")
def v1_spec() -> OpenApi:
    return OpenApi.load(FIXTURES / "specs" / "paypal_v1_sale_refund_DEPRECATED.json")


@pytest.fixture(scope="session")
def webhook_spec() -> OpenApi:
    return OpenApi.load(FIXTURES / "specs" / "paypal_v1_verify_webhook_signature.json")
