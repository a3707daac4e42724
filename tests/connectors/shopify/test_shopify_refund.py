"""refund_on_platform and get_platform_refund against the simulator: idempotent refundCreate, lookups, faults."""

from __future__ import annotations

import pytest

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimOrder, SimShop
from hub.contracts import Execution, Outcome, RefundLookup
from hub.models import RefundRecorded
from hub.testing.stores import MemoryStores

from .conftest import _execution, _request, _store, notice_of, wait_for


def test_same_key_twice_moves_money_once(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request)
    first = connector.refund_on_platform(_store(stores, shop), execution)
    second = connector.refund_on_platform(_store(stores, shop), execution)
    assert first.outcome is Outcome.SUCCEEDED and first.amount == request.amount == 6600
    assert second == first
    assert len(shop.refunds) == 1 and sim.refunded(order) == 6600
    assert len(sim.desk.ledger.refunds_of(order.transactions[0].ledger_id or "")) == 1
    (call, _) = sim.mutations("refundCreate", shop)
    assert call.key == execution.idempotency_key
    assert call.variables["transactions"][0]["parentId"] == execution.payment_reference
    assert len(sim.webhooks_for("refunds/create", shop)) == 1


def test_echo_of_the_hub_refund_is_recognised(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request, amount=2700)
    result = connector.refund_on_platform(_store(stores, shop), execution)
    echo = connector.fetch(_store(stores, shop), notice_of(connector, sim.webhooks_for("refunds/create", shop)[-1]))
    assert isinstance(echo, RefundRecorded) and echo.money_moved
    assert echo.request.hub_refund_id == execution.hub_refund_id
    assert echo.gateway_refund_id == result.gateway_refund_id and echo.request.amount == 2700


def test_more_than_refundable_is_declined(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    result = connector.refund_on_platform(_store(stores, shop), _execution(request, amount=order.total + 1))
    assert result.outcome is Outcome.FAILED and result.code == "user_error"
    assert sim.refunded(order) == 0 and shop.refunds == {}


def test_declined_key_stays_declined(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request, amount=order.total + 1)
    connector.refund_on_platform(_store(stores, shop), execution)
    again = connector.refund_on_platform(_store(stores, shop), execution)
    assert again.outcome is Outcome.FAILED and again.code == "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"


def test_key_reused_for_other_parameters_is_unknown(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request, amount=1000)
    connector.refund_on_platform(_store(stores, shop), execution)
    changed = Execution(**{**execution.__dict__, "amount": 1100})
    result = connector.refund_on_platform(_store(stores, shop), changed)
    assert result.outcome is Outcome.UNKNOWN and sim.refunded(order) == 1000


def test_outside_gateway_payment_is_not_refunded_on_shopify(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)], gateway="stripe", reference="pi_123")
    request = _request(sim, shop, connector, stores, order)
    result = connector.refund_on_platform(_store(stores, shop), _execution(request))
    assert result.outcome is Outcome.FAILED and result.code == "not_a_shopify_payment"
    assert sim.mutations("refundCreate", shop) == []


def test_response_lost_is_unknown_and_the_retry_replays(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request)
    sim.faults.add("lost_response", path=shop.domain, method="POST")
    lost = connector.refund_on_platform(_store(stores, shop), execution)
    assert lost.outcome is Outcome.UNKNOWN
    found = connector.get_platform_refund(
        _store(stores, shop),
        RefundLookup(
            hub_refund_id=execution.hub_refund_id,
            idempotency_key=execution.idempotency_key,
            payment_reference=execution.payment_reference,
            amount=execution.amount,
            currency="USD",
            payment_extra=execution.payment_extra,
        ),
    )
    assert found is not None and found.outcome is Outcome.SUCCEEDED
    again = connector.refund_on_platform(_store(stores, shop), execution)
    assert again.gateway_refund_id == found.gateway_refund_id
    assert sim.refunded(order) == request.amount and len(shop.refunds) == 1


@pytest.mark.parametrize(
    "fault,outcome",
    [
        ({"kind": "error", "status": 500}, Outcome.UNKNOWN),
        ({"kind": "error", "status": 502}, Outcome.UNKNOWN),
        ({"kind": "error", "status": 429}, Outcome.UNAVAILABLE),
        ({"kind": "error", "status": 400}, Outcome.FAILED),
        ({"kind": "reset"}, Outcome.UNKNOWN),
    ],
)
def test_transport_failures_map_to_outcomes(
    sim: ShopifySimulator,
    shop: SimShop,
    connector: ShopifyConnector,
    stores: MemoryStores,
    order: SimOrder,
    fault: dict[str, object],
    outcome: Outcome,
) -> None:
    request = _request(sim, shop, connector, stores, order)
    sim.faults.add(path=shop.domain, method="POST", **fault)  # type: ignore[arg-type]
    result = connector.refund_on_platform(_store(stores, shop), _execution(request))
    assert result.outcome is outcome
    assert sim.refunded(order) == 0


def test_nothing_listening_is_unavailable(shop: SimShop, stores: MemoryStores, sim: ShopifySimulator) -> None:
    dead = ShopifyConnector({**sim.hub_settings(), "admin_url": "http://127.0.0.1:9/store/{shop}"}, stores)
    execution = Execution(
        hub_refund_id="rf_x",
        idempotency_key="hub-rf_x",
        payment_reference="gid://shopify/OrderTransaction/1",
        amount=100,
        currency="USD",
        order_id="1",
        payment_extra={"gateway": "shopify_payments"},
    )
    result = dead.refund_on_platform(_store(stores, shop), execution)
    assert result.outcome is Outcome.UNAVAILABLE and result.code == "not_sent"


def test_pending_refund_settles(
    shop: SimShop, stores: MemoryStores, sim: ShopifySimulator, connector: ShopifyConnector, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request)
    sim.desk.ledger.settle_after = 0.05
    try:
        pending = connector.refund_on_platform(_store(stores, shop), execution)
    finally:
        sim.desk.ledger.settle_after = 0.0
    assert pending.outcome is Outcome.PENDING
    lookup = RefundLookup(
        hub_refund_id=execution.hub_refund_id,
        idempotency_key=execution.idempotency_key,
        payment_reference=execution.payment_reference,
        amount=execution.amount,
        currency="USD",
        gateway_refund_id=pending.gateway_refund_id,
    )
    settled = wait_for(
        lambda: (
            (r := connector.get_platform_refund(_store(stores, shop), lookup)) and r.outcome is Outcome.SUCCEEDED and r
        )
    )
    assert settled.gateway_refund_id == pending.gateway_refund_id
    updates = [w.json() for w in sim.webhooks_for("order_transactions/create", shop)]
    assert [u["status"] for u in updates if u["kind"] == "refund"] == ["pending", "success"]


def test_get_platform_refund_without_trace_is_none(
    shop: SimShop, stores: MemoryStores, sim: ShopifySimulator, connector: ShopifyConnector, order: SimOrder
) -> None:
    lookup = RefundLookup(
        hub_refund_id="rf_never",
        idempotency_key="hub-rf_never",
        payment_reference=f"gid://shopify/OrderTransaction/{order.transactions[0].id}",
        amount=100,
        currency="USD",
        payment_extra={"order_id": order.gid},
    )
    assert connector.get_platform_refund(_store(stores, shop), lookup) is None
    sim.faults.add("error", status=503, path=shop.domain)
    unsure = connector.get_platform_refund(_store(stores, shop), lookup)
    assert unsure is not None and unsure.outcome is Outcome.UNKNOWN
