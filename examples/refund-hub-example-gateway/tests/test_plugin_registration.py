"""Once installed, the hub finds ExamplePay through its entry point, and a whole hub (the sandbox
platform, the hub's own database, worker and janitor) refunds through it: nothing here hands
the hub the class; ``type = "examplepay"`` in the configuration is all it takes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from refundhub_example_gateway import ExamplePayGateway
from refundhub_example_gateway.simulator import ExamplePaySimulator

from hub.ledger import states
from hub.runtime import plugins
from hub.runtime.config import load_config
from hub.sandbox.platform import SandboxPlatform
from hub.testing.harness import HubHarness

EXAMPLE_CONFIG = Path(__file__).parents[1] / "refund-hub.example.toml"
ACCOUNT = "examplepay-main"
STORE = "example-store"
LABEL = "card"  # what the platform calls the payment method the store routes to ExamplePay


def test_the_entry_point_names_the_gateway() -> None:
    assert plugins.load(plugins.GATEWAYS, ["examplepay"]) == {"examplepay": ExamplePayGateway}
    assert plugins.available(plugins.GATEWAYS)["examplepay"] == (
        "refund-hub-example-gateway:refundhub_example_gateway:ExamplePayGateway"
    )


def test_the_example_configuration_enables_it() -> None:
    config = load_config(EXAMPLE_CONFIG, env={"REFUND_HUB_GATEWAYS__EXAMPLEPAY_MAIN__API_KEY": "ep_live_env"})
    assert config.gateway_type(ACCOUNT) == "examplepay"
    assert config.gateways[ACCOUNT]["api_key"] == "ep_live_env"
    assert config.stores["demo-store"].routes == {"card": f"gateway:{ACCOUNT}"}


class World:
    def __init__(self, hub: HubHarness, platform: SandboxPlatform, sim: ExamplePaySimulator) -> None:
        self.hub, self.platform, self.sim = hub, platform, sim

    def order(self, order_id: str, amount: int, currency: str = "USD") -> str:
        payment = self.sim.create_payment(amount, currency)
        self.platform.add_order(order_id, amount, currency, label=LABEL, reference=payment)
        return payment

    def settle(self, *, sweep: bool = True, until: Callable[[], bool] | None = None) -> None:
        self.hub.settle(senders=[self.platform.sender], sweep=sweep, until=until)

    def refund(self, request_id: str) -> Any:
        [row] = [r for r in self.hub.refunds() if r.source_ref == request_id]
        return row

    def in_state(self, request_id: str, state: str) -> Callable[[], bool]:
        return lambda: any(r.source_ref == request_id and r.state == state for r in self.hub.refunds())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    platform = SandboxPlatform(store_id=STORE).start()
    sim = ExamplePaySimulator().start()
    harness = HubHarness(
        tmp_path,
        connectors={"sandbox": platform.hub_settings()},
        gateways={ACCOUNT: {**sim.hub_settings(), "timeout": 0.5}},  # type = "examplepay"
        stores={STORE: platform.store_config(routes={LABEL: f"gateway:{ACCOUNT}"})},
        policies={"default": {"version": "example-gateway"}},
    )
    platform.webhook_url = f"{harness.url}/webhooks/sandbox"
    try:
        assert isinstance(harness.hub.gateways[ACCOUNT], ExamplePayGateway)  # loaded by entry point
        yield World(harness, platform, sim)
    finally:
        harness.close()
        platform.stop()
        sim.stop()


def test_a_refund_asked_for_on_the_platform_is_paid_by_examplepay_once(world: World) -> None:
    payment = world.order("7001", 4000)
    world.platform.request_refund("7001", 1500, request_id="rq-1")
    world.settle(until=world.in_state("rq-1", states.WRITTEN_BACK))
    refund = world.refund("rq-1")
    [at_gateway] = world.sim.refunds_of(payment)
    assert refund.state == states.WRITTEN_BACK
    assert refund.gateway_refund_id == at_gateway["id"]
    assert (at_gateway["amount"], at_gateway["metadata"]["hub_refund_id"]) == (1500, refund.id)
    assert world.sim.keys_sent() == [refund.idempotency_key]
    [record] = world.platform.refunds["7001"]
    assert (record["hub_refund_id"], record["gateway_refund_id"]) == (refund.id, at_gateway["id"])


def test_a_lost_answer_is_resolved_by_the_janitor_without_paying_twice(world: World) -> None:
    payment = world.order("7002", 2500)
    world.sim.stall_next(1.0)  # ExamplePay refunds, the hub's 0.5 s read timeout fires first
    world.platform.request_refund("7002", 2500, request_id="rq-lost")
    world.settle(sweep=False)
    assert world.refund("rq-lost").state == states.UNKNOWN
    world.settle()  # the janitor asks get_refund and finds the refund by its hub refund id
    refund = world.refund("rq-lost")
    [at_gateway] = world.sim.refunds_of(payment)
    assert refund.state == states.WRITTEN_BACK
    assert refund.gateway_refund_id == at_gateway["id"]
    assert world.sim.keys_sent() == [refund.idempotency_key]  # found, not re-sent


def test_a_pending_refund_settles_through_the_signed_status_webhook(world: World) -> None:
    world.sim.settle_refunds = False
    world.order("7003", 1800)
    world.platform.request_refund("7003", 1800, request_id="rq-pending")
    world.settle(sweep=False, until=world.in_state("rq-pending", states.PENDING))
    refund = world.refund("rq-pending")
    world.sim.settle(refund.gateway_refund_id)
    body, headers = world.sim.signed_event(refund.gateway_refund_id)
    answer = requests.post(f"{world.hub.url}/webhooks/gateway/{ACCOUNT}", data=body, headers=headers, timeout=5)
    assert answer.status_code == 200
    forged = requests.post(
        f"{world.hub.url}/webhooks/gateway/{ACCOUNT}",
        data=body,
        headers={**headers, "X-ExamplePay-Signature": "0" * 64},
        timeout=5,
    )
    assert forged.status_code == 401
    world.settle(sweep=False, until=world.in_state("rq-pending", states.WRITTEN_BACK))
    assert world.refund("rq-pending").state == states.WRITTEN_BACK
