"""Writing back to the simulated store over real HTTP: records with ``api_refund: false`` and their echo, notes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import DecisionNotice, Outcome, StoreContext, WriteBack
from hub.errors import PlatformUnavailable
from hub.models import Line, RefundRecorded

from .conftest import Wait, _writes


def _writeback(order: Mapping[str, Any], outcome: Outcome = Outcome.SUCCEEDED, amount: int = 1500) -> WriteBack:
    line = order["line_items"][0]
    return WriteBack(
        hub_refund_id="rf_abc123",
        order_id=str(order["id"]),
        source_ref=f"request:{order['id']}",
        amount=amount,
        currency="USD",
        outcome=outcome,
        route="gateway:stripe",
        gateway="stripe",
        gateway_refund_id="re_3Q",
        lines=(Line(line_id=str(line["id"]), quantity=1, unit_price=1500),),
        note="Refunded by Refund Hub (rf_abc123) through stripe",
    )


def test_write_back_records_without_moving_money_and_its_echo_is_recognised(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    order = sim.add_order(lines=[(sim.add_product("Lamp", "15.00")["id"], 2)], transaction_id="ch_1")
    result = connector.record(store, _writeback(order))
    [write] = _writes(sim, "/refunds")
    body = write["body"]
    assert body["api_refund"] is False and body["amount"] == "15.00"
    assert {"key": "_refund_hub_id", "value": "rf_abc123"} in body["meta_data"]
    assert body["line_items"] == [{"id": order["line_items"][0]["id"], "quantity": 1, "refund_total": "15.00"}]
    assert sim.money_moves == []
    assert result.reference and result.detail["created"] is True
    wait(lambda: len(hub_side.verified()) >= 3)  # refund_created, order_refunded, order.updated
    events = [connector.fetch(store, n) for n in hub_side.notices() if n.kind == "recorded"]
    assert len(events) == 3
    assert all(isinstance(e, RefundRecorded) and e.request.hub_refund_id == "rf_abc123" for e in events)
    event = events[0]
    assert isinstance(event, RefundRecorded)
    assert (event.money_moved, event.gateway_refund_id, event.request.source_ref) == (
        True,
        "re_3Q",
        f"refund:{result.reference}",
    )


def test_write_back_is_safe_to_repeat(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    first = connector.record(store, _writeback(order, amount=500))
    again = connector.record(store, _writeback(order, amount=500))
    assert first.reference == again.reference and again.detail["created"] is False
    assert len(_writes(sim, "/refunds")) == 1


def test_write_back_whose_answer_was_lost_is_retried_once(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    sim.faults.add("lost_response", method="POST", path=r"/refunds$")
    with pytest.raises(PlatformUnavailable):
        connector.record(store, _writeback(order, amount=500))
    retried = connector.record(store, _writeback(order, amount=500))
    assert retried.detail["created"] is False
    assert len(sim.shop.refunds_of(order["id"])) == 1


def test_a_refund_that_did_not_succeed_becomes_a_private_note(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    result = connector.record(store, _writeback(order, Outcome.FAILED))
    assert result.detail["kind"] == "note" and _writes(sim, "/refunds") == []
    [note] = sim.shop.notes[order["id"]]
    assert note["customer_note"] is False and "rf_abc123" in note["note"] and "failed" in note["note"]


def test_decision_note_reaches_the_customer_once(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    notice = DecisionNotice(
        hub_refund_id="rf_9",
        order_id=str(order["id"]),
        source_ref=f"request:{order['id']}",
        decision="deny",
        explanation="Digital downloads can't be refunded after download.",
    )
    first = connector.notify_decision(store, notice)
    again = connector.notify_decision(store, notice)
    assert first is not None and again is not None and first.reference == again.reference
    [note] = sim.shop.notes[order["id"]]
    assert note["customer_note"] is True and note["note"] == notice.explanation


def test_paying_out_a_manual_refund_adds_a_note_not_a_second_refund(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    manual = sim.add_manual_refund(order["id"], "15.00", "returned")
    writeback = replace(_writeback(order), source_ref=f"refund:{manual['id']}")
    first = connector.record(store, writeback)
    again = connector.record(store, writeback)
    assert first.reference == again.reference and first.detail["refund_id"] == str(manual["id"])
    assert sim.shop.refunds_of(order["id"]) == [manual["id"]] and _writes(sim, "/refunds") == []
    [note] = sim.shop.notes[order["id"]]
    assert note["customer_note"] is False
    assert note["note"].startswith(f"Refund Hub paid out manual refund #{manual['id']} (15.00 USD) via stripe (re_3Q).")


def _overlapping(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (threads released together); their results, or what they raised."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_overlapping_write_backs_make_one_refund_record(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    # both look-ups are slow: without a claim each sees no record yet and creates its own
    sim.faults.add("latency", seconds=0.4, method="GET", path=r"/refunds$", times=2)
    first, second = _overlapping([lambda: connector.record(store, _writeback(order, amount=500))] * 2)
    assert first.reference == second.reference
    assert len(sim.shop.refunds_of(order["id"])) == 1 and len(_writes(sim, "/refunds")) == 1


def test_write_back_lost_before_its_meta_was_saved_is_found_by_its_reason(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    """WooCommerce saves a REST refund's ``meta_data`` after ``wc_create_refund`` (and its e-mails and
    hooks) ran: a request that dies in between leaves a refund with its reason but without the meta."""
    order = sim.add_order(transaction_id="ch_1")
    sim.crash_refund_before_meta()
    with pytest.raises(PlatformUnavailable):
        connector.record(store, _writeback(order, amount=500))
    [made] = sim.shop.refunds_of(order["id"])
    assert sim.shop.refunds[made]["meta_data"] == []
    retried = connector.record(store, _writeback(order, amount=500))
    assert retried.reference == str(made) and retried.detail["created"] is False
    assert sim.shop.refunds_of(order["id"]) == [made]
    # its echo is still the hub's own: never taken for a manual refund to pay out
    notices = wait(lambda: hub_side.notices("action.woocommerce_refund_created"))
    echo = connector.fetch(store, notices[0])
    assert isinstance(echo, RefundRecorded) and echo.request.hub_refund_id == "rf_abc123" and echo.money_moved
