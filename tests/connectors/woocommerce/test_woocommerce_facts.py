"""The facts the policy needs, read from the WooCommerce simulator over real HTTP: a customer's
(and a guest's) order count and spend from ``GET /orders``, the shipment date the Shipment
Tracking extension records, the final-sale product meta the merchant names, and the store's
order count in a range from ``X-WP-Total``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import StoreContext
from hub.models import RefundRequest, RefundRequested
from hub.testing.stores import MemoryStores

from .conftest import Wait


def _requested(
    sim: WooCommerceSimulator,
    connector: WooCommerceConnector,
    store: StoreContext,
    hub_side: Any,
    wait: Wait,
    order_id: int,
) -> RefundRequest:
    sim.request_refund(order_id, "changed my mind")
    [notice] = wait(
        lambda: [n for n in hub_side.notices("order.updated") if n.kind == "requested" and n.order_id == str(order_id)]
    )
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested), event
    return event.request


def test_a_customers_orders_are_counted_and_summed(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    tee = sim.add_product("Tee", "25.00")
    for _ in range(2):
        sim.add_order([(tee["id"], 1)], customer_id=26, shipping="0")
    sim.add_order([(tee["id"], 1)], customer_id=26, shipping="0", status="pending")  # not paid: counted, not spent
    sim.add_order([(tee["id"], 3)], customer_id=27, shipping="0")  # somebody else
    order = sim.add_order([(tee["id"], 2)], customer_id=26, shipping="0")
    request = _requested(sim, connector, store, hub_side, wait, order["id"])
    assert (request.customer.order_count, request.customer.order_total) == (4, 2500 * 2 + 5000)


def test_a_guest_is_found_by_exact_billing_email_only(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    tee = sim.add_product("Tee", "25.00")
    sim.add_order([(tee["id"], 1)], email="Ann@Example.com", shipping="0")
    sim.add_order([(tee["id"], 1)], email="joann@example.com", shipping="0")  # the search finds her too
    sim.add_order([(tee["id"], 1)], email="ann@example.com", customer_id=5, shipping="0")  # an account's order
    order = sim.add_order([(tee["id"], 1)], email="ann@example.com", shipping="0")
    request = _requested(sim, connector, store, hub_side, wait, order["id"])
    assert request.customer.id is None
    assert (request.customer.order_count, request.customer.order_total) == (2, 5000)


def test_shipped_date_from_shipment_tracking_and_no_delivery_date(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    shipped = datetime(2026, 11, 3, tzinfo=UTC)
    tracking = [
        {"tracking_provider": "usps", "tracking_number": "9400", "date_shipped": str(int(shipped.timestamp()) + 86400)},
        {"tracking_provider": "ups", "tracking_number": "1Z99", "date_shipped": str(int(shipped.timestamp()))},
    ]
    order = sim.add_order(meta={"_wc_shipment_tracking_items": tracking}, customer_id=8)
    facts = _requested(sim, connector, store, hub_side, wait, order["id"]).order
    assert (facts.fulfilled_at, facts.delivered_at) == (shipped, None)
    plain = sim.add_order(customer_id=8)  # no tracking, not completed: no fulfilment date either
    assert _requested(sim, connector, store, hub_side, wait, plain["id"]).order.fulfilled_at is None


def test_the_final_sale_meta_the_store_names(
    sim: WooCommerceSimulator,
    connector: WooCommerceConnector,
    stores: MemoryStores,
    store: StoreContext,
    hub_side: Any,
    wait: Wait,
) -> None:
    outlet = sim.add_product("Outlet coat", "90.00", tags=["Outlet"], meta={"_final_sale": "yes"})
    tee = sim.add_product("Tee", "25.00", meta={"_final_sale": "no"})
    order = sim.add_order([(outlet["id"], 1), (tee["id"], 1)], customer_id=9)
    named = stores.save(
        store.id, settings={**store.settings, "final_sale_meta": "_final_sale"}, credentials=store.credentials
    )
    coat, shirt = _requested(sim, connector, named, hub_side, wait, order["id"]).lines
    assert (coat.final_sale, coat.tags, shirt.final_sale) == (True, ("Outlet",), False)


def test_the_stores_order_count_in_a_range(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    for age in (0.5, 2, 3, 10, 40):
        made = sim.add_order()
        with sim.shop.lock:
            sim.shop.backdate(sim.shop.orders[made["id"]], age)
    now = datetime.now(UTC)
    assert connector.order_count(store, now - timedelta(days=7), now) == 3
    assert connector.order_count(store, now - timedelta(days=60), now - timedelta(days=7)) == 2
    assert connector.order_count(store, now + timedelta(days=1), now + timedelta(days=2)) == 0
