"""Catch-up polling against the simulator: what a lost delivery would otherwise hide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.poll import decode_cursor, encode_cursor, seen_mark
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import StoreContext
from hub.errors import PlatformUnavailable
from hub.models import RefundRecorded, RefundRequested

from .conftest import Wait, every_page


def test_a_lost_delivery_is_found_by_poll(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    sim.lose_deliveries(3)
    refund = sim.add_manual_refund(order["id"], "7.00")
    wait(lambda: len(sim.lost) == 3)
    assert hub_side.verified() == []
    result = every_page(connector.poll(store, None))
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
    result = every_page(connector.poll(store, None))
    assert result is not None
    [notice] = result.notices
    assert notice.kind == "requested"
    assert isinstance(connector.fetch(store, notice), RefundRequested)


def test_the_cursor_moves_on(sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext) -> None:
    first = sim.add_order(transaction_id="ch_1")
    sim.add_manual_refund(first["id"], "1.00")
    polled = every_page(connector.poll(store, None))
    assert polled is not None and len(polled.notices) == 1
    again = every_page(connector.poll(store, polled.cursor))
    assert again is not None and again.notices == [] and again.cursor == polled.cursor
    second = sim.add_order(transaction_id="ch_2")
    sim.request_refund(second["id"])
    later = every_page(connector.poll(store, again.cursor))
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
    result = every_page(connector.poll(store, cursor))
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
    first = every_page(connector.poll(store, None))
    assert first is not None and first.notices == []
    pinned = sim.shop.orders[order["id"]]["date_modified_gmt"]
    sim.lose_deliveries(1, topic="order.updated")
    sim.request_refund(order["id"], "wrong colour")
    sim.shop.orders[order["id"]]["date_modified_gmt"] = pinned  # still the same second
    second = every_page(connector.poll(store, first.cursor))
    assert second is not None and [(n.kind, n.order_id) for n in second.notices] == [("requested", str(order["id"]))]
    third = every_page(connector.poll(store, second.cursor))
    assert third is not None and third.notices == [] and third.cursor == second.cursor
    decoded = decode_cursor(third.cursor)
    assert decoded is not None and decoded[1] == {seen_mark(sim.shop.render_order(order["id"]))}


def test_poll_reads_every_page(sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext) -> None:
    order = sim.shop.orders[_many_orders(sim, 105, spaced=False)[-1]]
    result = every_page(connector.poll(store, None))
    assert result is not None and len(result.notices) == 105
    assert result.notices[-1].order_id == str(order["id"])


def _many_orders(sim: WooCommerceSimulator, count: int, *, spaced: bool = True) -> list[int]:
    """``count`` orders in the refund-request status; ``spaced``: modified from 2030-01-01 on, a second apart."""
    ids = []
    for n in range(count):
        order = sim.shop.add_order(
            [(sim.add_product()["id"], 1)],
            currency="USD",
            payment_method="stripe",
            transaction_id=f"ch_{n}",
            shipping="0",
            tax_rate="0",
            customer_id=0,
            email="a@b.c",
            status="refund-requested",
            meta={},
        )
        if spaced:
            stamp = (datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=n)).replace(tzinfo=None).isoformat()
            sim.shop.orders[order["id"]]["date_modified_gmt"] = stamp
        ids.append(int(order["id"]))
    return ids


def test_poll_yields_a_page_at_a_time_with_its_cursor(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    ids = _many_orders(sim, 250)
    pages = list(connector.poll(store, encode_cursor(datetime(2029, 12, 31, tzinfo=UTC), set())))
    assert [len(p.notices) for p in pages] == [100, 100, 50]
    for page, last in zip(pages, (ids[99], ids[199], ids[249]), strict=True):
        decoded = decode_cursor(page.cursor)
        assert decoded is not None and decoded[1] == {seen_mark(sim.shop.render_order(last))}


def test_a_poll_failing_on_page_3_resumes_after_page_2(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, stores: Any
) -> None:
    """As ``hub.pipeline.polling.poll_store`` runs it: each page's cursor saved as it comes."""
    ids = _many_orders(sim, 250)
    saved = encode_cursor(datetime(2029, 12, 31, tzinfo=UTC), set())
    taken: list[str | None] = []

    def poll_once() -> None:
        nonlocal saved
        for page in connector.poll(store, saved):
            taken.extend(n.order_id for n in page.notices)
            saved = page.cursor or saved

    sim.fail_page(3)
    with pytest.raises(PlatformUnavailable):
        poll_once()
    assert taken == [str(i) for i in ids[:200]]
    poll_once()
    assert taken == [str(i) for i in ids]  # page 3 read once the store answers again, pages 1 and 2 not again
    poll_once()
    assert taken == [str(i) for i in ids]
