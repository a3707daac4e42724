"""A whole hub wired to the sandbox platform and one real gateway simulator (Stripe, PayPal or
Square), for the tests that drive each gateway through the hub rather than its adapter alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Request, request

from gateways.paypal.sim import PayPalSimulator
from gateways.square.sim import SquareSimulator
from gateways.stripe.sim import StripeSimulator
from hub.sandbox.platform import SandboxPlatform
from hub.testing.harness import HubHarness

STORE = "gateway-store"
LABEL = "card"  # the platform's name for the payment method the store routes to the gateway
POLICY = {"version": "gateways-through-hub"}
# Square signs over the subscription's public URL, which the hub is told; a proxy in front of
# the hub forwards to where the simulator actually posts.
SQUARE_PUBLIC_URL = "https://hub.example.test/webhooks/gateway/square-main"


@dataclass(frozen=True)
class GatewayCase:
    """What differs between gateways for these tests; everything else is the hub's business."""

    name: str
    make: Callable[[], Any]  # an unstarted simulator
    refund_post: str  # regex of the refund-creating POST path
    key_of: Callable[[Request], str | None]  # the idempotency key a refund POST carries
    dashboard_refund: Callable[[Any, str, int], str]  # (simulator, payment, amount) -> refund id
    # The SDKs' own retries are off: each hub attempt is one HTTP request, so a fault hits the
    # hub, and the janitor's same-key re-send is what is under test.
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def account(self) -> str:
        return f"{self.name}-main"


CASES = {
    "stripe": GatewayCase(
        "stripe",
        StripeSimulator,
        r"^/v1/refunds$",
        lambda r: r.headers.get("Idempotency-Key"),
        lambda sim, payment, amount: sim.dashboard_refund(payment, amount),
        {"max_network_retries": 0, "timeout": 5},
    ),
    "paypal": GatewayCase(
        "paypal",
        PayPalSimulator,
        r"^/v2/payments/captures/[^/]+/refund$",
        lambda r: r.headers.get("PayPal-Request-Id"),
        lambda sim, payment, amount: sim.add_dashboard_refund(payment, amount),
        {"timeout": 5},
    ),
    "square": GatewayCase(
        "square",
        lambda: SquareSimulator(notification_url=SQUARE_PUBLIC_URL),
        r"^/v2/refunds$",
        lambda r: (r.get_json(silent=True) or {}).get("idempotency_key"),
        lambda sim, payment, amount: sim.dashboard_refund(payment, amount),
        {"max_retries": 0, "timeout": 5},
    ),
}


@dataclass
class GatewayWorld:
    case: GatewayCase
    hub: HubHarness
    platform: SandboxPlatform
    sim: Any
    sent_keys: list[str | None]  # the key of every refund POST that reached the simulator

    def order(self, order_id: str, amount: int, currency: str = "USD") -> str:
        """A platform order paid at the gateway; returns the gateway's payment reference."""
        payment: str = self.sim.create_payment(amount, currency)
        self.platform.add_order(order_id, amount, currency, label=LABEL, reference=payment)
        return payment

    def ask(self, order_id: str, amount: int, request_id: str) -> None:
        """The customer asks for a refund on the platform; it posts the signed webhook to the hub."""
        self.platform.request_refund(order_id, amount, request_id=request_id)

    def settle(self, *, sweep: bool = True, until: Callable[[], bool] | None = None) -> None:
        self.hub.settle(senders=[self.platform.sender, self.sim.sender], sweep=sweep, until=until)

    def refund(self, request_id: str) -> Any:
        [row] = [r for r in self.hub.refunds() if r.source_ref == request_id]
        return row

    def in_state(self, request_id: str, state: str) -> Callable[[], bool]:
        return lambda: any(r.source_ref == request_id and r.state == state for r in self.hub.refunds())

    def gateway_refunds(self, payment: str) -> list[Any]:
        return list(self.sim.ledger.refunds_of(payment))

    def send_status_webhooks(self) -> None:
        """Point the simulator's signed status webhooks at the hub's route for the account."""
        self.sim.webhook_url = f"{self.hub.url}/webhooks/gateway/{self.case.account}"

    def actions(self, refund_id: str) -> list[str]:
        return [a.action for a in self.hub.audit(refund_id)]

    def executor_results(self, refund_id: str) -> list[tuple[str, str]]:
        """(who, outcome) of every executor answer the ledger took for the refund, in order."""
        return [(a.actor, a.detail["outcome"]) for a in self.hub.audit(refund_id) if a.action == "executor_result"]


def _record_refund_keys(case: GatewayCase, sim: Any, keys: list[str | None]) -> None:
    """Note each refund POST's key before the fault plan can answer it (so errored tries count)."""

    def note() -> None:
        if request.method == "POST" and re.search(case.refund_post, request.path):
            keys.append(case.key_of(request))

    sim.app.before_request_funcs.setdefault(None, []).insert(0, note)


def make_gateway_world(case: GatewayCase, tmp_path: Path, database_url: str | None = None) -> Iterator[GatewayWorld]:
    """The world over SQLite in ``tmp_path``, or over ``database_url`` (a PostgreSQL schema)."""
    platform = SandboxPlatform(store_id=STORE)
    platform.start()
    sim = case.make()
    keys: list[str | None] = []
    _record_refund_keys(case, sim, keys)
    sim.start()
    harness = HubHarness(
        tmp_path,
        connectors={"sandbox": platform.hub_settings()},
        gateways={case.account: {"type": case.name, **sim.hub_settings(), **case.settings}},
        stores={STORE: platform.store_config(routes={LABEL: f"gateway:{case.account}"})},
        policies={"default": POLICY},
        database_url=database_url,
    )
    platform.webhook_url = f"{harness.url}/webhooks/sandbox"
    try:
        yield GatewayWorld(case, harness, platform, sim, keys)
    finally:
        harness.close()
        platform.stop()
        sim.stop()


@pytest.fixture(params=sorted(CASES))
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GatewayWorld]:
    """One hub, the sandbox platform and the parametrized gateway's simulator (status webhooks
    off until a test points the simulator at the hub)."""
    yield from make_gateway_world(CASES[request.param], tmp_path)
