"""poll on an Open Source store (which pushes nothing) and Adobe Commerce catch-up, over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.contracts import Outcome, WriteBack
from hub.errors import PlatformUnavailable
from hub.models import RefundRecorded, RefundRequested


def test_a_status_marked_order_is_found_by_polling(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim)
    order = open_sim.add_order(
        [{"sku": "TEE", "price": 2000, "qty": 2}],
        method="paypal_express",
        last_trans_id="8MC585209K746392H",
        shipping=300,
    )
    assert open_sim.sender.history == []  # Open Source sends nothing
    first = kit.poll(connector, store, None)
    assert first is not None and first.notices == []
    open_sim.mark_refund_request(order["entity_id"])
    second = kit.poll(connector, store, first.cursor)
    assert second is not None
    (notice,) = second.notices
    assert notice.source_ref == f"order:{order['increment_id']}:status:refund_requested"
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested)
    assert (event.request.amount, event.request.shipping) == (4300, 300)
    assert event.request.primary_payment.reference == "8MC585209K746392H"
    again = kit.poll(connector, store, second.cursor)
    assert again is not None and again.notices == []  # same second, already reported: not again


def test_comment_requests_and_credit_memos(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim)
    order = open_sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_p1")
    open_sim.mark_refund_request(order["entity_id"], comment="#refund it arrived damaged")
    memo_order = open_sim.add_order([{"sku": "CAP", "price": 1500}], method="checkmo")
    open_sim.merchant_refund(memo_order["entity_id"])
    result = kit.poll(connector, store, None)
    assert result is not None
    kinds = sorted((n.kind, n.hints["entity"]) for n in result.notices)
    assert kinds == [("recorded", "creditmemo"), ("requested", "order")]
    request = next(n for n in result.notices if n.kind == "requested")
    event = connector.fetch(store, request)
    assert isinstance(event, RefundRequested) and event.request.reason.value == "damaged"
    recorded = connector.fetch(store, next(n for n in result.notices if n.kind == "recorded"))
    assert isinstance(recorded, RefundRecorded) and not recorded.money_moved


def test_write_back_echo_is_found_by_polling(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim)
    order = open_sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_p2")
    cursor = kit.poll(connector, store, None).cursor
    connector.record(
        store,
        WriteBack(
            hub_refund_id="rf_poll",
            order_id=str(order["entity_id"]),
            source_ref="x",
            amount=2000,
            currency="USD",
            outcome=Outcome.SUCCEEDED,
            route="gateway:stripe",
        ),
    )
    (notice,) = kit.poll(connector, store, cursor).notices
    echo = connector.fetch(store, notice)
    assert isinstance(echo, RefundRecorded) and echo.request.hub_refund_id == "rf_poll"


def test_pages_are_followed_and_the_cursor_advances(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim, poll_page_size=2)
    for price in (1000, 1100, 1200, 1300, 1400):
        order = open_sim.add_order([{"sku": "TEE", "price": price}], method="checkmo")
        open_sim.merchant_refund(order["entity_id"])
    result = kit.poll(connector, store, None)
    assert result is not None and len(result.notices) == 5
    assert len({n.source_ref for n in result.notices}) == 5
    state = json.loads(str(result.cursor))
    assert len(state["creditmemos"]["seen"]) == 5  # all in the boundary second, kept to avoid repeats
    assert kit.poll(connector, store, result.cursor).notices == []


def test_commerce_catch_up_includes_new_returns(kit: Any) -> None:
    sim = kit.start("commerce")  # no webhook_url: the pushes went missing
    try:
        connector, store = kit.connect(sim)
        order = sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_p3")
        rma = sim.create_rma(order["entity_id"])
        result = kit.poll(connector, store, None)
        assert [n.source_ref for n in result.notices] == [f"rma:{rma['entity_id']}"]
        assert kit.poll(connector, store, result.cursor).notices == []
    finally:
        sim.stop()


def test_a_poll_that_fails_on_page_3_resumes_after_page_2(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim, poll_page_size=2)
    memos = []
    for price in (1000, 1100, 1200, 1300, 1400, 1500, 1600):
        order = open_sim.add_order([{"sku": "TEE", "price": price}], method="checkmo")
        memos.append(open_sim.merchant_refund(order["entity_id"]))
    open_sim.fail_page("creditmemos", 3)

    # as the hub's janitor does: take each page and save its cursor, until the poll fails
    taken: list[str | None] = []
    saved = None

    def janitor() -> None:
        nonlocal saved
        for page in connector.poll(store, None):
            taken.extend(n.source_ref for n in page.notices)
            saved = page.cursor

    with pytest.raises(PlatformUnavailable):
        janitor()
    assert len(taken) == 4 and saved is not None  # pages 1 and 2 are in, and their cursor

    rest = kit.poll(connector, store, saved)
    taken.extend(n.source_ref for n in rest.notices)
    assert sorted(map(str, taken)) == sorted(f"creditmemo:{memo:09d}" for memo in memos)  # each once, none lost
    assert len(rest.notices) == 3  # the resumed poll did not report pages 1 and 2 again
    assert kit.poll(connector, store, rest.cursor).notices == []


def test_each_page_carries_the_cursor_after_it(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim, poll_page_size=2)
    for price in (1000, 1100, 1200):
        order = open_sim.add_order([{"sku": "TEE", "price": price}], method="checkmo")
        open_sim.merchant_refund(order["entity_id"])
    pages = list(connector.poll(store, None))
    assert [len(p.notices) for p in pages][:2] == [2, 1]  # credit memos: two pages, then the orders'
    seen = [json.loads(str(p.cursor))["creditmemos"]["seen"] for p in pages[:2]]
    assert (len(seen[0]), len(seen[1])) == (2, 3)
