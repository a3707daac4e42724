"""record and notify_decision against the simulator: write-backs that move no money, declined returns."""

from __future__ import annotations

import json
import threading
import uuid

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimOrder, SimShop
from hub.contracts import DecisionNotice, Outcome, WriteBack
from hub.errors import PlatformUnavailable
from hub.models import RefundRecorded, RefundRequest
from hub.testing.stores import MemoryStores

from .conftest import _execution, _request, _store, notice_of


def _writeback(
    request: RefundRequest, route: str = "gateway:stripe", outcome: Outcome = Outcome.SUCCEEDED
) -> WriteBack:
    return WriteBack(
        hub_refund_id=f"rf_{uuid.uuid4().hex[:10]}",
        order_id=request.order_id,
        source_ref=request.source_ref,
        amount=request.amount,
        currency=request.currency,
        outcome=outcome,
        route=route,
        gateway="stripe",
        gateway_refund_id="re_3PzRefund",
        lines=request.lines,
    )


def test_record_writes_back_without_moving_money(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000), ("Shade", 1500)], gateway="stripe", reference="pi_77")
    request = _request(sim, shop, connector, stores, order)
    writeback = _writeback(request)
    first = connector.record(_store(stores, shop), writeback)
    second = connector.record(_store(stores, shop), writeback)
    assert first.reference and first.reference == second.reference
    assert first.reference.startswith("gid://shopify/Refund/")
    assert first.detail["money_moved_by_shopify"] is False
    (made,) = shop.refunds.values()
    assert made.transaction_ids == [] and sim.refunded(order) == 0
    value = json.loads(order.metafields[("refund_hub", f"refund_{writeback.hub_refund_id}")]["value"])
    assert (value["gateway_refund_id"], value["amount"], value["outcome"]) == ("re_3PzRefund", "55.00", "succeeded")
    echoes = sim.webhooks_for("refunds/create", shop)
    assert len(echoes) == 1
    echo = connector.fetch(_store(stores, shop), notice_of(connector, echoes[0]))
    assert isinstance(echo, RefundRecorded) and echo.request.hub_refund_id == writeback.hub_refund_id
    assert echo.request.amount == 5500 and echo.request.primary_payment.reference == "pi_77"


def test_record_of_a_platform_refund_only_annotates(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    execution = _execution(request)
    made = connector.refund_on_platform(_store(stores, shop), execution)
    writeback = WriteBack(
        hub_refund_id=execution.hub_refund_id,
        order_id=request.order_id,
        source_ref=request.source_ref,
        amount=request.amount,
        currency="USD",
        outcome=Outcome.SUCCEEDED,
        route="platform",
        gateway_refund_id=made.gateway_refund_id,
        lines=request.lines,
    )
    recorded = connector.record(_store(stores, shop), writeback)
    assert recorded.reference == made.gateway_refund_id
    assert len(shop.refunds) == 1 and len(sim.mutations("refundCreate", shop)) == 1
    assert sim.refunded(order) == request.amount


def test_failed_gateway_refund_is_noted_not_recorded_as_refund(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)], gateway="paypal", reference="9XY")
    request = _request(sim, shop, connector, stores, order)
    connector.record(_store(stores, shop), _writeback(request, outcome=Outcome.FAILED))
    assert shop.refunds == {} and len(order.metafields) == 1


def test_denial_declines_the_return_with_the_explanation(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores, order: SimOrder
) -> None:
    request = _request(sim, shop, connector, stores, order)
    notice = DecisionNotice(
        hub_refund_id="rf_d",
        order_id=request.order_id,
        source_ref=request.source_ref,
        decision="deny",
        explanation="Opened software can't be returned after 14 days.",
    )
    result = connector.notify_decision(_store(stores, shop), notice)
    assert result is not None and result.detail["status"] == "DECLINED"
    ret = shop.find_return(request.source_ref)
    assert ret is not None and ret.decline == {"reason": "other", "note": notice.explanation}
    (call,) = sim.mutations("returnDeclineRequest", shop)
    assert call.variables["notifyCustomer"] is True
    assert sim.webhooks_for("returns/decline", shop)
    other = DecisionNotice(
        hub_refund_id="rf_d",
        order_id=request.order_id,
        source_ref=request.source_ref,
        decision="offer_alternative",
        explanation="Store credit?",
    )
    assert connector.notify_decision(_store(stores, shop), other) is None


def test_record_can_leave_out_the_refund_record(sim: ShopifySimulator, shop: SimShop, stores: MemoryStores) -> None:
    connector = ShopifyConnector({**sim.hub_settings(), "record_refunds": False}, stores)
    order = sim.add_order(shop, [("Lamp", 4000)], gateway="square", reference="sq_pay_1")
    request = _request(sim, shop, connector, stores, order)
    recorded = connector.record(_store(stores, shop), _writeback(request))
    assert shop.refunds == {} and len(order.metafields) == 1
    assert recorded.reference == "re_3PzRefund"


def test_record_on_an_order_shopify_can_pay_out_writes_only_the_metafield(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    # part paid with Stripe, part with Shopify Payments: a refund record without transactions
    # might be applied by Shopify to its own payment, so only the metafield is written
    order = sim.add_order(shop, [("Lamp", 4000)], gateway="stripe", reference="pi_mixed")
    order.transactions.append(sim._payment(order, "shopify_payments", None))
    request = _request(sim, shop, connector, stores, order)
    writeback = _writeback(request)
    recorded = connector.record(_store(stores, shop), writeback)
    assert "refund_record_skipped" in recorded.detail
    assert shop.refunds == {} and sim.refunded(order) == 0
    assert ("refund_hub", f"refund_{writeback.hub_refund_id}") in order.metafields


def test_record_twice_makes_one_refund_even_after_shopify_forgot_the_key(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    """Shopify keeps an @idempotent key for a while only: the second record finds the first by the
    hub marker in the order's refunds before it creates anything."""
    order = sim.add_order(shop, [("Lamp", 4000)], gateway="stripe", reference="pi_twice")
    request = _request(sim, shop, connector, stores, order)
    writeback = _writeback(request)
    first = connector.record(_store(stores, shop), writeback)
    sim.forget_idempotency_keys(shop)
    second = connector.record(_store(stores, shop), writeback)
    assert first.reference == second.reference and len(shop.refunds) == 1
    assert len(sim.mutations("refundCreate", shop)) == 1
    assert second.detail["shopify_refund"] == first.reference


def test_concurrent_records_make_one_refund(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector, stores: MemoryStores
) -> None:
    """Two write-backs of one hub refund at once (a lease ran out): Shopify answers the second
    IDEMPOTENCY_CONCURRENT_REQUEST; that is "try again later", and the retry finds the first."""
    order = sim.add_order(shop, [("Lamp", 4000)], gateway="stripe", reference="pi_race")
    request = _request(sim, shop, connector, stores, order)
    writeback = _writeback(request)
    results: list[object] = []

    def write() -> None:
        try:
            results.append(connector.record(_store(stores, shop), writeback).reference)
        except PlatformUnavailable as exc:
            results.append(exc)

    sim.refund_latency = 0.4
    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    sim.refund_latency = 0.0
    references = [r for r in results if isinstance(r, str)]
    assert len(results) == 2 and references, results
    assert all(r == references[0] or isinstance(r, PlatformUnavailable) for r in results), results
    retried = connector.record(_store(stores, shop), writeback)
    assert retried.reference == references[0]
    assert len(shop.refunds) == 1 and sim.refunded(order) == 0
