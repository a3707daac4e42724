"""record and notify_decision against the simulator: offline credit memos whose echo is matched, comments, RMAs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from connectors.magento.client import MagentoError
from connectors.magento.record import LISTING_GRACE
from connectors.magento.refund import WRITING
from hub.contracts import DecisionNotice, Outcome, WriteBack
from hub.errors import PlatformUnavailable
from hub.models import Line, RefundRecorded


def writeback(order: dict[str, Any], hub_id: str, amount: int, **fields: Any) -> WriteBack:
    options: dict[str, Any] = {
        "outcome": Outcome.SUCCEEDED,
        "route": "gateway:stripe",
        "gateway": "stripe",
        "gateway_refund_id": "re_123",
        **fields,
    }
    return WriteBack(
        hub_refund_id=hub_id,
        order_id=str(order["entity_id"]),
        source_ref="rma:1",
        amount=amount,
        currency="USD",
        **options,
    )


def test_record_writes_an_offline_credit_memo_whose_echo_is_matched(sim: Any, receiver: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 2500, "qty": 2}], last_trans_id="pi_77", shipping=500)
    tee = order["items"][0]
    line = Line(line_id=str(tee["item_id"]), sku="TEE", quantity=1, unit_price=2500)
    result = connector.record(store, writeback(order, "rf_echo1", 2500, lines=(line,)))
    assert result.detail["created"] is True
    (memo,) = sim.creditmemos(order["entity_id"])
    assert memo["transaction_id"] is None and memo["grand_total"] == 25.0
    method, path, body = sim.writes[-1]
    assert (method, path) == ("POST", f"/rest/V1/order/{order['entity_id']}/refund")
    assert (
        "isOnline" not in body and body["appendComment"] is True and "refund-hub:rf_echo1" in body["comment"]["comment"]
    )
    assert body["items"] == [{"order_item_id": tee["item_id"], "qty": 1}]
    (notice,) = receiver.wait(f"creditmemo:{memo['increment_id']}")
    echo = connector.fetch(store, notice)
    assert isinstance(echo, RefundRecorded)
    assert (echo.money_moved, echo.request.hub_refund_id, echo.request.amount) == (False, "rf_echo1", 2500)
    assert sim.ledger.refunded("pi_77") == 0  # the write-back moved no money


def test_record_is_idempotent_and_notes_failures(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 3000}], last_trans_id="pi_78")
    first = connector.record(store, writeback(order, "rf_twice", 3000))
    again = connector.record(store, writeback(order, "rf_twice", 3000))
    assert (first.reference, again.reference, again.detail["created"]) == (first.reference, first.reference, False)
    assert len(sim.creditmemos(order["entity_id"])) == 1
    failed = connector.record(store, writeback(order, "rf_failed", 1000, outcome=Outcome.FAILED))
    assert failed.detail == {"order_comment": True, "outcome": "failed"}
    comments = sim.order(order["entity_id"])["status_histories"]
    assert "refund-hub:rf_failed" in comments[0]["comment"] and comments[0]["is_visible_on_front"] == 0
    assert len(sim.creditmemos(order["entity_id"])) == 1


def test_record_retries_after_a_lost_answer_without_writing_twice(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 3000}], last_trans_id="pi_79")
    sim.faults.add("lost_response", method="POST", path=r"/order/\d+/refund")
    with pytest.raises(PlatformUnavailable):
        connector.record(store, writeback(order, "rf_lost", 3000))
    # the credit memo exists but cannot be listed yet (an error, a read replica behind): no second write
    sim.faults.add("error", status=503, method="GET", path=r"/creditmemos$")
    with pytest.raises(PlatformUnavailable):
        connector.record(store, writeback(order, "rf_lost", 3000))
    listed, sim.state.creditmemos = sim.state.creditmemos, {}
    try:
        with pytest.raises(PlatformUnavailable):  # "none listed" while the lost write may have happened
            connector.record(store, writeback(order, "rf_lost", 3000))
    finally:
        sim.state.creditmemos = listed
    assert connector.record(store, writeback(order, "rf_lost", 3000)).detail["created"] is False
    assert len(sim.creditmemos(order["entity_id"])) == 1


def test_a_write_back_sent_but_not_applied_is_written_once_when_its_mark_runs_out(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 3000}], last_trans_id="pi_81")
    sim.faults.add("reset", method="POST", path=r"/order/\d+/refund")  # sent, never applied, answer lost
    with pytest.raises(PlatformUnavailable):
        connector.record(store, writeback(order, "rf_reset", 3000))
    with pytest.raises(PlatformUnavailable):  # no memo listed, but the write may still land: wait
        connector.record(store, writeback(order, "rf_reset", 3000))
    key = f"{WRITING}rf_reset"
    _, expires = connector.stores._state[(store.id, key)]
    lasts = connector.client(store).timeout[1] + LISTING_GRACE
    assert time.time() + lasts - 5 < expires <= time.time() + lasts  # minutes, not the platform route's 15
    connector.stores.set_state(store.id, key, "run out", ttl=0.0)
    assert connector.record(store, writeback(order, "rf_reset", 3000)).detail["created"] is True
    assert connector.record(store, writeback(order, "rf_reset", 3000)).detail["created"] is False
    assert len(sim.creditmemos(order["entity_id"])) == 1


def test_notify_decision_comments_and_declines_the_rma(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_80")
    rma = sim.create_rma(order["entity_id"])
    notice = DecisionNotice(
        hub_refund_id="rf_no",
        order_id=str(order["entity_id"]),
        source_ref=f"rma:{rma['entity_id']}",
        decision="deny",
        explanation="Worn items cannot be returned. #refund",
    )
    result = connector.notify_decision(store, notice)
    assert result is not None and result.detail["rma_status"] == "denied"
    assert sim.rma(rma["entity_id"])["status"] == "denied"
    (comment,) = sim.order(order["entity_id"])["status_histories"]
    assert comment["is_visible_on_front"] == 1 and "#refund" not in comment["comment"]
    assert "Worn items cannot be returned." in comment["comment"]
    connector.notify_decision(store, notice)  # repeated: no second comment
    assert len(sim.order(order["entity_id"])["status_histories"]) == 1


def test_notify_decision_without_rma_module(kit: Any) -> None:
    sim = kit.start("open_source")
    try:
        connector, store = kit.connect(sim)
        order = sim.add_order([{"sku": "TEE", "price": 2000}], last_trans_id="pi_81")
        notice = DecisionNotice(
            hub_refund_id="rf_os",
            order_id=str(order["entity_id"]),
            source_ref="rma:99",
            decision="deny",
            explanation="Outside the return window.",
        )
        result = connector.notify_decision(store, notice)
        assert result is not None and "rma_error" in result.detail
        assert sim.order(order["entity_id"])["status_histories"][0]["is_customer_notified"] == 1
    finally:
        sim.stop()


def test_overlapping_records_make_one_credit_memo(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 3000}], last_trans_id="pi_82")
    # the first write is slow to reach Magento (its lease runs out meanwhile): a second call overlaps it
    sim.faults.add("latency", seconds=1.0, method="POST", path=r"/order/\d+/refund")
    outcomes: list[Any] = []

    def write() -> None:
        try:
            outcomes.append(connector.record(store, writeback(order, "rf_overlap", 3000)))
        except PlatformUnavailable as exc:
            outcomes.append(exc)

    first = threading.Thread(target=write)
    first.start()
    time.sleep(0.3)
    write()  # while the first is in flight
    first.join()
    assert len(sim.creditmemos(order["entity_id"])) == 1
    assert sum(isinstance(o, PlatformUnavailable) for o in outcomes) == 1  # the overlap waits for its retry
    again = connector.record(store, writeback(order, "rf_overlap", 3000))  # the retry finds the memo
    assert again.detail["created"] is False and len(sim.creditmemos(order["entity_id"])) == 1


def test_a_write_refused_before_magento_acted_can_be_retried_at_once(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 3000}], last_trans_id="pi_84")
    sim.faults.add("error", status=401, method="POST", path=r"/order/\d+/refund")
    with pytest.raises(MagentoError):
        connector.record(store, writeback(order, "rf_refused", 3000))
    assert connector.record(store, writeback(order, "rf_refused", 3000)).detail["created"] is True
    assert len(sim.creditmemos(order["entity_id"])) == 1
