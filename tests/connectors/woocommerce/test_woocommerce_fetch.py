"""Signed deliveries from the simulator, verified and parsed, then ``fetch`` over real HTTP
(OAuth 1.0a, what the ``woocommerce`` package sends to a plain-http store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import Notice, StoreContext
from hub.errors import PlatformError, PlatformUnavailable
from hub.models import Ignored, ProductKind, RefundRecorded, RefundRequested

Wait = Callable[..., Any]


def test_refund_request_status_round_trip(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    ebook = sim.add_product("Ebook", "12.00", virtual=True, downloadable=True, download_limit=5)
    mug = sim.add_product("Mug", "8.50", tags=["final-sale"])
    order = sim.add_order(
        [(ebook["id"], 1), (mug["id"], 2)],
        transaction_id="ch_3Q",
        intent_id="pi_3Q",
        customer_id=26,
        tax_rate="10",
        shipping="4.99",
    )
    sim.download(order["id"], ebook["id"], times=3)
    sim.request_refund(order["id"], "The mug arrived broken")
    [notice] = wait(lambda: [n for n in hub_side.notices("order.updated") if n.kind == "requested"])
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested)
    request = event.request
    assert (request.amount, request.shipping, request.currency) == (3689, 499, "USD")
    assert request.reason.value == "damaged" and request.reason_text == "The mug arrived broken"
    digital, physical = request.lines
    assert (digital.kind, digital.usage and digital.usage.downloads) == (ProductKind.DIGITAL, 3)
    assert (physical.kind, physical.quantity, physical.unit_price, physical.tax, physical.tags) == (
        ProductKind.PHYSICAL,
        2,
        850,
        170,
        ("final-sale",),
    )
    payment = request.primary_payment
    assert (payment.platform_label, payment.reference, payment.captured) == ("stripe", "ch_3Q", 3689)
    assert payment.extra["stripe_intent_id"] == "pi_3Q"


@pytest.mark.parametrize(
    ("method", "options", "extra"),
    [
        (
            "ppcp-gateway",
            {"paypal_order_id": "5O190127TN364715T"},
            {"paypal_order_id": "5O190127TN364715T", "intent": "CAPTURE", "captured": "true"},
        ),
        ("ppcp-gateway", {"intent": "AUTHORIZE", "captured": False}, {"intent": "AUTHORIZE", "captured": "false"}),
        ("square_credit_card", {}, {"captured": "true"}),
    ],
)
def test_other_gateways(
    sim: WooCommerceSimulator,
    connector: WooCommerceConnector,
    store: StoreContext,
    method: str,
    options: dict[str, Any],
    extra: dict[str, str],
) -> None:
    order = sim.add_order(payment_method=method, transaction_id="TXN-1", **options)
    sim.request_refund(order["id"])
    notice = Notice(kind="requested", store_id=store.id, topic="order.updated", order_id=str(order["id"]))
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested)
    payment = event.request.primary_payment
    assert payment.platform_label == method and payment.reference == "TXN-1"
    assert extra.items() <= payment.extra.items()
    assert payment.captured == (0 if extra["captured"] == "false" else 3000)
    assert connector.default_routes[method] == ("gateway:paypal" if method.startswith("ppcp") else "gateway:square")


def test_manual_refund_arrives_three_ways_and_is_one_refund(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    refund = sim.add_manual_refund(order["id"], "12.50", "customer kept the box")
    wait(lambda: len(hub_side.verified()) >= 3)
    topics = sorted(v.topic for _, v in hub_side.verified())
    assert topics == ["action.woocommerce_order_refunded", "action.woocommerce_refund_created", "order.updated"]
    events = [connector.fetch(store, n) for n in hub_side.notices()]
    assert {e.request.source_ref for e in events if isinstance(e, RefundRecorded)} == {f"refund:{refund['id']}"}
    event = events[0]
    assert isinstance(event, RefundRecorded) and event.money_moved is False and event.request.amount == 1250
    assert sim.money_moves == []


def test_refund_through_the_payment_plugin_moved_money(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    refund = sim.add_manual_refund(order["id"], "5.00", api_refund=True)
    notice = Notice(
        kind="recorded",
        store_id=store.id,
        topic="order.updated",
        order_id=str(order["id"]),
        hints={"refund_id": str(refund["id"])},
    )
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRecorded) and event.money_moved is True and event.request.hub_refund_id is None
    assert [m["amount"] for m in sim.money_moves] == ["5.00"]


def test_merged_delivery_with_two_refunds(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    with sim.merged():
        first = sim.add_manual_refund(order["id"], "1.00")
        second = sim.add_manual_refund(order["id"], "2.00")
    [(_, verified)] = wait(lambda: hub_side.verified("order.updated"))
    assert verified.dedupe_key.endswith(f"|{first['id']},{second['id']}")
    notices = hub_side.notices("order.updated")
    assert sorted(n.source_ref for n in notices) == [f"refund:{first['id']}", f"refund:{second['id']}"]
    amounts = sorted(
        e.request.amount for e in (connector.fetch(store, n) for n in notices) if isinstance(e, RefundRecorded)
    )
    assert amounts == [100, 200]


def test_custom_request_action(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, stores: Any, hub_side: Any, wait: Wait
) -> None:
    current = stores.get(sim.store_id)
    stores.add(
        current.id,
        settings={**current.settings, "refund_request_action": "action.wc_return_requested"},
        credentials=current.credentials,
    )
    sim.hooks.add(
        name="Refund Hub returns",
        topic="action.wc_return_requested",
        secret=sim.webhook_secret,
        delivery_url=None,
        ping=False,
    )
    order = sim.add_order(transaction_id="ch_1")
    sim.request_refund(order["id"], action="wc_return_requested")
    [notice] = wait(lambda: hub_side.notices("action.wc_return_requested"))
    event = connector.fetch(stores.get(sim.store_id), notice)
    assert isinstance(event, RefundRequested) and event.request.order_id == str(order["id"])


def test_unknown_order_is_ignored(connector: WooCommerceConnector, store: StoreContext) -> None:
    notice = Notice(
        kind="recorded", store_id=store.id, topic="order.updated", order_id="99999", hints={"refund_id": "1"}
    )
    assert isinstance(connector.fetch(store, notice), Ignored)


def test_transient_platform_failure_is_retried(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    sim.request_refund(order["id"])
    sim.faults.add("error", status=503, path=r"/orders/\d+$")
    notice = Notice(kind="requested", store_id=store.id, topic="order.updated", order_id=str(order["id"]))
    with pytest.raises(PlatformUnavailable):
        connector.fetch(store, notice)
    assert isinstance(connector.fetch(store, notice), RefundRequested)


def test_revoked_keys_are_a_platform_error(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    sim.auth.keys.clear()
    notice = Notice(kind="requested", store_id=store.id, topic="order.updated", order_id=str(order["id"]))
    with pytest.raises(PlatformError) as caught:
        connector.fetch(store, notice)
    assert not isinstance(caught.value, PlatformUnavailable) and "401" in str(caught.value)
