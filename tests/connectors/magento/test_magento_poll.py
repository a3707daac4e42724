"""poll on an Open Source store (which pushes nothing) and Adobe Commerce catch-up, over real HTTP."""

from __future__ import annotations

import json
from typing import Any

from hub.contracts import Outcome, WriteBack
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
    first = connector.poll(store, None)
    assert first is not None and first.notices == []
    open_sim.mark_refund_request(order["entity_id"])
    second = connector.poll(store, first.cursor)
    assert second is not None
    (notice,) = second.notices
    assert notice.source_ref == f"order:{order['increment_id']}:status:refund_requested"
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested)
    assert (event.request.amount, event.request.shipping) == (4300, 300)
    assert event.request.primary_payment.reference == "8MC585209K746392H"
    again = connector.poll(store, second.cursor)
    assert again is not None and again.notices == []  # same second, already reported: not again


def test_comment_requests_and_credit_memos(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim)
    order = open_sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_p1")
    open_sim.mark_refund_request(order["entity_id"], comment="#refund it arrived damaged")
    memo_order = open_sim.add_order([{"sku": "CAP", "price": 1500}], method="checkmo")
    open_sim.merchant_refund(memo_order["entity_id"])
    result = connector.poll(store, None)
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
    cursor = connector.poll(store, None).cursor
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
    (notice,) = connector.poll(store, cursor).notices
    echo = connector.fetch(store, notice)
    assert isinstance(echo, RefundRecorded) and echo.request.hub_refund_id == "rf_poll"


def test_pages_are_followed_and_the_cursor_advances(open_sim: Any, kit: Any) -> None:
    connector, store = kit.connect(open_sim, poll_page_size=2)
    for price in (1000, 1100, 1200, 1300, 1400):
        order = open_sim.add_order([{"sku": "TEE", "price": price}], method="checkmo")
        open_sim.merchant_refund(order["entity_id"])
    result = connector.poll(store, None)
    assert result is not None and len(result.notices) == 5
    assert len({n.source_ref for n in result.notices}) == 5
    state = json.loads(str(result.cursor))
    assert len(state["creditmemos"]["seen"]) == 5  # all in the boundary second, kept to avoid repeats
    assert connector.poll(store, result.cursor).notices == []


def test_commerce_catch_up_includes_new_returns(kit: Any) -> None:
    sim = kit.start("commerce")  # no webhook_url: the pushes went missing
    try:
        connector, store = kit.connect(sim)
        order = sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_p3")
        rma = sim.create_rma(order["entity_id"])
        result = connector.poll(store, None)
        assert [n.source_ref for n in result.notices] == [f"rma:{rma['entity_id']}"]
        assert connector.poll(store, result.cursor).notices == []
    finally:
        sim.stop()
