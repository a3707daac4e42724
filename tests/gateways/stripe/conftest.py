"""Fixtures for the Stripe adapter tests: the simulator, an adapter pointed at it, a webhook inbox."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from gateways.stripe import StripeGateway
from gateways.stripe.sim import StripeSimulator
from hub.contracts import Execution, Inbound, RefundLookup
from hub.sandbox.simserver import SimulatorServer
from hub.testing import executions, inbound
from hub.testing.openapi import OpenApi

SPEC_PATH = Path(__file__).parents[2] / "fixtures" / "specs" / "stripe_refunds.json"


class StripeSpec(OpenApi):
    """The Stripe extract, tolerant of what it leaves out on purpose.

    The extract keeps ``$ref``s to objects it did not transcribe (charge, payment_intent, ...);
    those accept anything. A ``nullable`` property that is null conforms before its ``anyOf``
    is looked at. Form-encoded request bodies are checked after turning numeric strings into
    the integers the schema asks for.
    """

    def resolve(self, node: Any) -> Any:
        try:
            return super().resolve(node)
        except KeyError:
            return {}

    def errors(self, value: Any, schema: Any, where: str = "$") -> list[str]:
        if value is None and self.resolve(schema).get("nullable"):
            return []
        return super().errors(value, schema, where)

    def check_form_request(self, path: str, method: str, params: dict[str, Any]) -> None:
        body = self.resolve(self.operation(path, method)["requestBody"])
        schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
        typed = {k: _typed(v, schema["properties"].get(k, {})) for k, v in params.items()}
        unknown = set(params) - set(schema["properties"])
        assert not unknown, f"parameters not in the spec: {unknown}"
        self._raise(f"request {method} {path}", self.errors(typed, schema))


def _typed(value: Any, schema: Any) -> Any:
    if schema.get("type") == "integer" and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


@pytest.fixture(scope="session")
def spec() -> StripeSpec:
    return StripeSpec(OpenApi.load(SPEC_PATH).document)


class Inbox:
    """A real HTTP endpoint on 127.0.0.1 that keeps every webhook posted to it."""

    def __init__(self) -> None:
        self.received: list[Inbound] = []
        self._changed = threading.Condition()
        app = Flask("stripe-webhook-inbox")

        @app.post("/webhooks/gateway/stripe")
        def _receive() -> tuple[str, int]:
            with self._changed:
                self.received.append(inbound(request.get_data(), dict(request.headers), url=request.url))
                self._changed.notify_all()
            return "", 200

        self.server = SimulatorServer(app)

    @property
    def url(self) -> str:
        return f"{self.server.url}/webhooks/gateway/stripe"

    def wait_for(self, count: int, about: str = "", timeout: float = 5.0) -> list[Inbound]:
        """The first ``count`` webhooks whose body mentions ``about``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [item for item in self.received if about.encode() in item.body]
                if len(matching) >= count:
                    return matching[:count]
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} webhooks about {about!r}, got {len(matching)}"
                self._changed.wait(left)


# One simulator and one inbox for the whole run (each server takes ~0.5 s to shut down);
# every test gets them back in a clean state and uses its own payments.
@pytest.fixture(scope="session")
def _inbox() -> Iterator[Inbox]:
    box = Inbox()
    box.server.start()
    yield box
    box.server.stop()


@pytest.fixture(scope="session")
def _sim(_inbox: Inbox) -> Iterator[StripeSimulator]:
    simulator = StripeSimulator(webhook_url=_inbox.url)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def inbox(_inbox: Inbox) -> Inbox:
    with _inbox._changed:
        _inbox.received.clear()
    return _inbox


@pytest.fixture
def sim(_sim: StripeSimulator, inbox: Inbox) -> Iterator[StripeSimulator]:
    secrets = list(_sim.webhook_secrets)
    _sim.requests.clear()
    yield _sim
    _sim.faults.clear()
    _sim.faults.latency = 0.0
    _sim.ledger.settle_after = 0.0
    _sim.ledger.fail_next_refunds = 0
    _sim.webhook_secrets[:] = secrets


@pytest.fixture
def make_gateway(sim: StripeSimulator) -> Callable[..., StripeGateway]:
    """An adapter on the simulator; no SDK retries unless a test asks (faults hit one attempt)."""

    def make(**overrides: Any) -> StripeGateway:
        settings = {**sim.hub_settings(), "max_network_retries": 0, "timeout": 2, **overrides}
        return StripeGateway("stripe-main", settings)

    return make


@pytest.fixture
def gateway(make_gateway: Callable[..., StripeGateway]) -> StripeGateway:
    return make_gateway()


@pytest.fixture
def execution() -> Callable[..., Execution]:
    """An ``Execution`` with a fresh hub refund id and key; keyword overrides."""

    def make(reference: str, amount: int, currency: str = "USD", **overrides: Any) -> Execution:
        hub_id = overrides.pop("hub_refund_id", f"rf_{uuid.uuid4().hex[:12]}")
        fields: dict[str, Any] = {
            "hub_refund_id": hub_id,
            "idempotency_key": f"hub-refund-{hub_id}",
            "payment_reference": reference,
            "amount": amount,
            "currency": currency,
            "order_id": "1001",
            **overrides,
        }
        return Execution(**fields)

    return make


@pytest.fixture
def lookup_of() -> Callable[..., RefundLookup]:
    """The ``RefundLookup`` the janitor would build for an earlier ``Execution``."""
    return executions.lookup_for


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture
def until() -> Callable[..., None]:
    return wait_until
