"""record, refund_on_platform, get_platform_refund and notify_decision against the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from hub.contracts import DecisionNotice, Execution, Outcome, RefundLookup, WriteBack
from hub.errors import PlatformUnavailable
from hub.models import Line, RefundRecorded
from hub.sandbox.gatewaysim import SimError


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


def execution(order: dict[str, Any], hub_id: str, amount: int, **fields: Any) -> Execution:
    return Execution(
        hub_refund_id=hub_id,
        idempotency_key=f"key-{hub_id}",
        payment_reference="bt_1",
        amount=amount,
        currency="USD",
        order_id=str(order["entity_id"]),
        **fields,
    )


def lookup(order: dict[str, Any], hub_id: str, amount: int) -> RefundLookup:
    return RefundLookup(
        hub_refund_id=hub_id,
        idempotency_key=f"key-{hub_id}",
        payment_reference="bt_1",
        amount=amount,
        currency="USD",
        payment_extra={"order_id": str(order["entity_id"])},
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
    assert connector.record(store, writeback(order, "rf_lost", 3000)).detail["created"] is False
    assert len(sim.creditmemos(order["entity_id"])) == 1


def test_refund_on_platform_moves_money_once(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 4000}], method="braintree", last_trans_id="bt_1")
    result = connector.refund_on_platform(store, execution(order, "rf_online", 4000, full_refund=True))
    assert (result.outcome, result.amount, result.raw_status) == (Outcome.SUCCEEDED, 4000, "online_creditmemo")
    (memo,) = sim.creditmemos(order["entity_id"])
    assert memo["transaction_id"] and str(memo["entity_id"]) == result.gateway_refund_id
    method, path, body = sim.writes[-1]
    assert path.startswith("/rest/V1/invoice/") and body["isOnline"] is True
    replay = connector.refund_on_platform(store, execution(order, "rf_online", 4000, full_refund=True))
    assert replay.gateway_refund_id == result.gateway_refund_id
    assert sim.ledger.refunded("bt_1") == 4000 and len(sim.creditmemos(order["entity_id"])) == 1
    found = connector.get_platform_refund(store, lookup(order, "rf_online", 4000))
    assert found is not None and found.gateway_refund_id == result.gateway_refund_id
    assert connector.get_platform_refund(store, lookup(order, "rf_never", 4000)) is None


def test_online_refund_through_a_pluggable_gateway(kit: Any) -> None:
    moved: list[tuple[str, int, str]] = []

    def gateway(order: dict[str, Any], amount: int, currency: str) -> str:
        if amount > 5000:
            raise SimError("declined", "Refund declined by the processor.")
        moved.append((order["payment"]["last_trans_id"], amount, currency))
        return f"gw_{len(moved)}"

    sim = kit.start("open_source", online_refund=gateway)
    try:
        connector, store = kit.connect(sim)
        order = sim.add_order([{"sku": "TEE", "price": 3000, "qty": 3}], method="braintree", last_trans_id="bt_5")
        line = Line(line_id=str(order["items"][0]["item_id"]), quantity=1, unit_price=3000)
        ok = connector.refund_on_platform(store, execution(order, "rf_gw1", 3000, lines=(line,)))
        assert ok.outcome is Outcome.SUCCEEDED and moved == [("bt_5", 3000, "USD")]
        declined = connector.refund_on_platform(store, execution(order, "rf_gw2", 6000))
        assert (declined.outcome, declined.message) == (Outcome.FAILED, "Refund declined by the processor.")
        too_much = connector.refund_on_platform(store, execution(order, "rf_gw3", 9000))
        assert too_much.outcome is Outcome.FAILED and "most money available" in str(too_much.message)
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"kind": "error", "status": 500}, Outcome.UNKNOWN),
        ({"kind": "lost_response"}, Outcome.UNKNOWN),
        ({"kind": "reset"}, Outcome.UNKNOWN),
        ({"kind": "error", "status": 401}, Outcome.UNAVAILABLE),
    ],
)
def test_ambiguous_platform_refunds_are_unknown(sim: Any, wired: Any, fault: dict[str, Any], outcome: Outcome) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 2000}], method="braintree", last_trans_id=f"bt_{fault['kind']}")
    sim.faults.add(method="POST", path=r"/invoice/\d+/refund", **fault)
    hub_id = f"rf_{fault['kind']}_{fault.get('status', 0)}"
    result = connector.refund_on_platform(store, execution(order, hub_id, 2000))
    assert result.outcome is outcome
    found = connector.get_platform_refund(store, lookup(order, hub_id, 2000))
    if fault["kind"] == "lost_response":  # it happened; the janitor finds it by the hub id
        assert found is not None and found.outcome is Outcome.SUCCEEDED
    else:
        assert found is None


def test_unreachable_magento_is_unavailable(kit: Any) -> None:
    sim = kit.start("open_source")
    connector, store = kit.connect(sim)
    order = sim.add_order([{"sku": "TEE", "price": 2000}], method="braintree", last_trans_id="bt_gone")
    sim.stop()
    result = connector.refund_on_platform(store, execution(order, "rf_gone", 2000))
    assert result.outcome is Outcome.UNAVAILABLE
    lost = connector.get_platform_refund(store, lookup(order, "rf_gone", 2000))
    assert lost is not None and lost.outcome is Outcome.UNKNOWN


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
