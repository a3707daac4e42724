"""The facts the policy needs, read from the Magento simulator over real HTTP: the customer's (or
a guest's) orders by ``searchCriteria``, the first shipment as the fulfilment date (no delivery
date), and the store's order count in a range from ``total_count``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.contracts import Notice, StoreContext
from hub.models import RefundRequest, RefundRequested


def _rma_request(sim: Any, wired: Any, order: dict[str, Any]) -> RefundRequest:
    connector, store = wired
    item = order["items"][0]
    rma = sim.create_rma(order["entity_id"], {item["item_id"]: 1}, reason="Wrong Size")
    notice = Notice(
        "requested", store.id, "observer.rma_save_after", None, f"rma:{rma['entity_id']}",
        {"entity": "rma", "id": str(rma["entity_id"])},
    )  # fmt: skip
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested), event
    return event.request


def test_a_customers_orders_counted_and_summed(sim: Any, wired: Any) -> None:
    sim.add_product("TEE", price=2500, name="Tee")
    line = [{"sku": "TEE", "price": 2500}]
    earlier = [sim.add_order(line, customer_id=4101, last_trans_id=f"pi_h{i}") for i in range(2)]
    sim.add_order(line, customer_id=4102, last_trans_id="pi_other")
    order = sim.add_order([{"sku": "TEE", "price": 2500, "qty": 2}], customer_id=4101, last_trans_id="pi_h9")
    request = _rma_request(sim, wired, order)
    spent = sum(round(float(o["grand_total"]) * 100) for o in [*earlier, order])
    assert (request.customer.id, request.customer.order_count, request.customer.order_total) == ("4101", 3, spent)


def test_a_guest_is_counted_by_email_among_guest_orders(sim: Any, wired: Any) -> None:
    sim.add_product("TEE", price=2500, name="Tee")
    line = [{"sku": "TEE", "price": 2500}]
    sim.add_order(line, customer_id=None, email="guest-4201@example.com", last_trans_id="pi_g1")
    sim.add_order(line, customer_id=4201, email="guest-4201@example.com", last_trans_id="pi_g2")  # an account's
    order = sim.add_order(line, customer_id=None, email="guest-4201@example.com", last_trans_id="pi_g3")
    request = _rma_request(sim, wired, order)
    assert request.customer.id is None and request.customer.order_count == 2


def test_the_first_shipment_is_the_fulfilment_and_delivery_stays_unknown(sim: Any, wired: Any) -> None:
    sim.add_product("TEE", price=2500, name="Tee")
    order = sim.add_order([{"sku": "TEE", "price": 2500, "qty": 2}], last_trans_id="pi_ship")
    unshipped = _rma_request(sim, wired, order).order
    assert (unshipped.fulfilled_at, unshipped.delivered_at) == (None, None)
    sim.state.add_shipment(order["entity_id"], at="2026-11-04 09:30:00", track="1Z999")
    facts = _rma_request(sim, wired, order).order
    assert facts.fulfilled_at == datetime(2026, 11, 4, 9, 30, tzinfo=UTC) and facts.delivered_at is None


def test_the_stores_order_count_in_a_range(sim: Any, wired: Any) -> None:
    connector, store = wired
    sim.add_product("TEE", price=2500, name="Tee")
    for i, day in enumerate(
        ("2001-03-01 00:00:00", "2001-03-05 12:00:00", "2001-03-09 23:59:59", "2001-03-10 00:00:00")
    ):
        made = sim.add_order([{"sku": "TEE", "price": 2500}], last_trans_id=f"pi_c{i}")
        sim.state.backdate(made["entity_id"], day)
    store_: StoreContext = store
    assert connector.order_count(store_, datetime(2001, 3, 1, tzinfo=UTC), datetime(2001, 3, 10, tzinfo=UTC)) == 3
    assert connector.order_count(store_, datetime(2001, 3, 10, tzinfo=UTC), datetime(2001, 3, 11, tzinfo=UTC)) == 1
    assert connector.order_count(store_, datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 2, 1, tzinfo=UTC)) == 0
