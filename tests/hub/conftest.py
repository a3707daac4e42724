"""A whole hub wired to the sandbox platform and sandbox gateway simulators."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hub.sandbox.gateway import SandboxGatewaySimulator
from hub.sandbox.platform import SandboxPlatform
from hub.testing.harness import HubHarness

STORE = "sandbox-store"
POLICY = {"version": "test-1"}


@dataclass
class World:
    hub: HubHarness
    platform: SandboxPlatform
    gateway: SandboxGatewaySimulator

    def order(self, order_id: str, amount: int, currency: str = "USD", label: str = "sandbox") -> str:
        payment = self.gateway.create_payment(amount, currency, payment_id=f"pay-{order_id}")
        self.platform.add_order(order_id, amount, currency, label=label, reference=payment)
        return payment

    def post(self, raw: bytes, headers: dict[str, str]) -> Any:
        return self.hub.client.post("/webhooks/sandbox", data=raw, headers=headers)

    def gateway_refunds(self) -> list[Any]:
        return list(self.gateway.ledger.refunds.values())


def make_world(tmp_path: Any, engine: Any = None, **hub_settings: Any) -> Iterator[World]:
    platform = SandboxPlatform(store_id=STORE).start()
    gateway = SandboxGatewaySimulator().start()
    harness = HubHarness(
        tmp_path,
        engine=engine,
        hub_settings=hub_settings,
        connectors={"sandbox": platform.hub_settings()},
        gateways={"sandbox": gateway.hub_settings()},
        stores={STORE: platform.store_config()},
        policies={"default": POLICY},
    )
    platform.webhook_url = f"{harness.url}/webhooks/sandbox"
    gateway.webhook_url = f"{harness.url}/webhooks/gateway/sandbox"
    try:
        yield World(harness, platform, gateway)
    finally:
        harness.close()
        platform.stop()
        gateway.stop()


@pytest.fixture
def world(tmp_path: Any) -> Iterator[World]:
    yield from make_world(tmp_path)


@pytest.fixture
def any_world(tmp_path: Any, any_engine: Any) -> Iterator[World]:
    yield from make_world(tmp_path, engine=any_engine)
