"""Catch-up polling and webhook health against the simulator: what a lost delivery or a disabled
webhook would otherwise hide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.poll import decode_cursor, encode_cursor, seen_mark
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import StoreContext
from hub.models import RefundRecorded, RefundRequested

Wait = Callable[..., Any]


def test_a_lost_delivery_is_found_by_poll(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    sim.lose_deliveries(3)
    refund = sim.add_manual_refund(order["id"], "7.00")
    wait(lambda: len(sim.lost) == 3)
    assert hub_side.verified() == []
    result = connector.poll(store, None)
    assert result is not None
    [notice] = [n for n in result.notices if n.order_id == str(order["id"])]
    assert notice.source_ref == f"refund:{refund['id']}"
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRecorded) and event.request.amount == 700


def test_a_lost_refund_request_is_found_by_poll(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    sim.lose_deliveries(1, topic="order.updated")
    sim.request_refund(order["id"], "wrong colour")
    result = connector.poll(store, None)
    assert result is not None
    [notice] = result.notices
    assert notice.kind == "requested"
    assert isinstance(connector.fetch(store, notice), RefundRequested)


def test_the_cursor_moves_on(sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext) -> None:
    first = sim.add_order(transaction_id="ch_1")
    sim.add_manual_refund(first["id"], "1.00")
    polled = connector.poll(store, None)
    assert polled is not None and len(polled.notices) == 1
    again = connector.poll(store, polled.cursor)
    assert again is not None and again.notices == [] and again.cursor == polled.cursor
    second = sim.add_order(transaction_id="ch_2")
    sim.request_refund(second["id"])
    later = connector.poll(store, again.cursor)
    assert later is not None and [n.order_id for n in later.notices] == [str(second["id"])]


def test_orders_modified_in_the_cursor_second_are_not_missed(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    seen, late = sim.add_order(transaction_id="ch_1"), sim.add_order(transaction_id="ch_2")
    for order in (seen, late):
        sim.add_manual_refund(order["id"], "1.00")
        sim.shop.orders[order["id"]]["date_modified_gmt"] = "2030-01-01T10:00:00"
    second = datetime(2030, 1, 1, 10, tzinfo=UTC)
    cursor = encode_cursor(second, {seen_mark(sim.shop.render_order(seen["id"]))})
    result = connector.poll(store, cursor)
    assert result is not None
    assert [n.order_id for n in result.notices] == [str(late["id"])]
    marks = {seen_mark(sim.shop.render_order(o["id"])) for o in (seen, late)}
    assert decode_cursor(result.cursor) == (second, marks)


def test_a_change_within_the_cursor_second_is_not_missed(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    """``date_modified`` is second-grained: a refund request made in the second the last poll
    saw the order modified leaves ``date_modified`` as it was, but not the order's mark."""
    order = sim.add_order(transaction_id="ch_1")
    first = connector.poll(store, None)
    assert first is not None and first.notices == []
    pinned = sim.shop.orders[order["id"]]["date_modified_gmt"]
    sim.lose_deliveries(1, topic="order.updated")
    sim.request_refund(order["id"], "wrong colour")
    sim.shop.orders[order["id"]]["date_modified_gmt"] = pinned  # still the same second
    second = connector.poll(store, first.cursor)
    assert second is not None and [(n.kind, n.order_id) for n in second.notices] == [("requested", str(order["id"]))]
    third = connector.poll(store, second.cursor)
    assert third is not None and third.notices == [] and third.cursor == second.cursor
    decoded = decode_cursor(third.cursor)
    assert decoded is not None and decoded[1] == {seen_mark(sim.shop.render_order(order["id"]))}


def test_poll_reads_every_page(sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext) -> None:
    for _ in range(105):
        order = sim.shop.add_order(
            [(sim.add_product()["id"], 1)],
            currency="USD",
            payment_method="stripe",
            transaction_id="ch",
            shipping="0",
            tax_rate="0",
            customer_id=0,
            email="a@b.c",
            status="refund-requested",
            meta={},
        )
    result = connector.poll(store, None)
    assert result is not None and len(result.notices) == 105
    assert result.notices[-1].order_id == str(order["id"])


def test_check_webhooks_re_enables_disabled_and_paused(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    sim.set_webhook_status(1, "disabled")
    sim.set_webhook_status(2, "paused")
    problems = connector.check_webhooks(store)
    assert problems == [
        "webhook 1 (order.updated) was disabled: re-enabled",
        "webhook 2 (action.woocommerce_order_refunded) was paused: re-enabled",
    ]
    assert {h["status"] for h in sim.shop.webhooks.values()} == {"active"}
    assert [w["body"] for w in sim.writes if w["method"] == "PUT"] == [{"status": "active"}] * 2
    assert connector.check_webhooks(store) == []


def test_webhook_disabled_by_failed_deliveries_is_repaired(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    hub_side.answer = 500
    for status in ("on-hold", "processing") * 4:
        sim.set_status(order["id"], status)
    wait(lambda: sim.shop.webhooks[1]["status"] == "disabled")
    hub_side.answer = None
    assert connector.check_webhooks(store) == ["webhook 1 (order.updated) was disabled: re-enabled"]
    sim.add_manual_refund(order["id"], "1.00")
    wait(lambda: hub_side.verified("order.updated"))


def test_missing_webhook_is_created_and_pinged(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    del sim.shop.webhooks[3]
    assert connector.check_webhooks(store) == ["webhook 4 (action.woocommerce_refund_created) was missing: created"]
    created = sim.shop.webhooks[4]
    assert created["topic"] == "action.woocommerce_refund_created" and created["secret"] == sim.webhook_secret
    port = sim.url.rsplit(":", 1)[1]
    assert created["delivery_url"] == f"{hub_side.url}/webhooks/woocommerce?store=http%3A%2F%2F127.0.0.1%3A{port}"
    [(_, ping)] = wait(lambda: hub_side.verified("ping"))
    assert ping.ack_only and ping.store_id == store.id


def test_unreachable_store_is_reported(connector: WooCommerceConnector, store: StoreContext) -> None:
    gone = StoreContext(
        id=store.id, connector="woocommerce", settings={"url": "http://127.0.0.1:9"}, credentials=store.credentials
    )
    [problem] = connector.check_webhooks(gone)
    assert problem.startswith("webhook for * was unreachable: failed:")
