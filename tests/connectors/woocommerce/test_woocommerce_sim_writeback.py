"""Writing to the simulated store over real HTTP: write-back with ``api_refund: false`` and its echo,
the platform route with ``api_refund: true`` guarded by the hub id, lookups and order notes."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce import transformers as tx
from connectors.woocommerce.sim import WooCommerceSimulator, ledger_refunder
from hub.contracts import DecisionNotice, Execution, Outcome, StoreContext, WriteBack
from hub.errors import PlatformUnavailable
from hub.models import Line, RefundRecorded
from hub.sandbox.gatewaysim import SimLedger
from hub.testing import executions
from hub.testing.executions import lookup_for

Wait = Callable[..., Any]


def _writes(sim: WooCommerceSimulator, suffix: str) -> list[dict[str, Any]]:
    return [w for w in sim.writes if w["method"] == "POST" and w["path"].endswith(suffix)]


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


def _execution(order: Mapping[str, Any], amount: int = 1000, hub_id: str = "rf_plat1") -> Execution:
    order_id = str(order["id"])
    return executions.execution(
        "ch_1", amount, hub_refund_id=hub_id, order_id=order_id, payment_extra={"order_id": order_id}
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


def test_platform_refund_moves_money_once(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    calls: list[tuple[str, int]] = []

    def pay_back(order: Mapping[str, Any], amount: int, reason: str) -> str:
        calls.append((order["transaction_id"], amount))
        return f"re_gw_{len(calls)}"

    sim.refund_payment = pay_back
    order = sim.add_order(transaction_id="ch_1")
    execution = _execution(order)
    result = connector.refund_on_platform(store, execution)
    assert (result.outcome, result.amount, result.currency) == (Outcome.SUCCEEDED, 1000, "USD")
    [write] = _writes(sim, "/refunds")
    assert write["body"]["api_refund"] is True and write["body"]["amount"] == "10.00"
    assert {"key": "_refund_hub_idempotency_key", "value": "hub-rf_plat1"} in write["body"]["meta_data"]
    assert calls == [("ch_1", 1000)]
    again = connector.refund_on_platform(store, execution)
    assert again.gateway_refund_id == result.gateway_refund_id and calls == [("ch_1", 1000)]
    [notice] = wait(lambda: hub_side.notices("action.woocommerce_refund_created"))
    echo = connector.fetch(store, notice)
    assert isinstance(echo, RefundRecorded)
    assert (echo.request.hub_refund_id, echo.gateway_refund_id, echo.money_moved) == (
        "rf_plat1",
        result.gateway_refund_id,
        True,
    )


def test_platform_refund_with_a_lost_answer_is_unknown_then_found(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    execution = _execution(order)
    sim.faults.add("lost_response", method="POST", path=r"/refunds$")
    assert connector.refund_on_platform(store, execution).outcome is Outcome.UNKNOWN
    found = connector.get_platform_refund(store, lookup_for(execution))
    assert found is not None and found.outcome is Outcome.SUCCEEDED
    without_order = replace(execution, payment_extra={})  # found by the refund id alone
    by_id = connector.get_platform_refund(store, lookup_for(without_order, found.gateway_refund_id))
    assert by_id is not None and by_id.gateway_refund_id == found.gateway_refund_id
    assert connector.refund_on_platform(store, execution).gateway_refund_id == found.gateway_refund_id
    assert len(sim.money_moves) == 1


def test_payment_plugin_failure_stays_unknown(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    def decline(order: Mapping[str, Any], amount: int, reason: str) -> str:
        raise RuntimeError("card_declined")

    sim.refund_payment = decline
    order = sim.add_order(transaction_id="ch_1")
    execution = _execution(order)
    result = connector.refund_on_platform(store, execution)
    assert result.outcome is Outcome.UNKNOWN and result.code == "woocommerce_rest_cannot_create_order_refund"
    # no refund record survives, but the plugin may have reached the gateway: still unknown, never "no trace"
    looked = connector.get_platform_refund(store, lookup_for(execution))
    assert looked is not None and looked.outcome is Outcome.UNKNOWN and "card_declined" in (looked.message or "")
    assert sim.shop.refunds_of(order["id"]) == [] and sim.money_moves == []


def test_unreachable_store_is_unavailable(connector: WooCommerceConnector, store: StoreContext) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    gone = StoreContext(
        id=store.id,
        connector="woocommerce",
        settings={"url": f"http://127.0.0.1:{closed_port}"},
        credentials=store.credentials,
    )
    result = connector.refund_on_platform(gone, _execution({"id": 700}))
    assert result.outcome is Outcome.UNAVAILABLE


def test_unknown_order_is_failed(connector: WooCommerceConnector, store: StoreContext) -> None:
    assert connector.refund_on_platform(store, _execution({"id": 99999})).outcome is Outcome.FAILED


def test_timeout_on_create_is_unknown(sim: WooCommerceSimulator, store: StoreContext, stores: Any) -> None:
    order = sim.add_order(transaction_id="ch_1")
    quick = WooCommerceConnector({**sim.hub_settings(), "timeout": 0.3}, stores)
    sim.faults.add("timeout", seconds=1.0, method="POST", path=r"/refunds$")
    assert quick.refund_on_platform(store, _execution(order)).outcome is Outcome.UNKNOWN


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


def test_platform_refund_at_a_gateway_simulator_ledger(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    ledger = SimLedger(id_prefix="re_")
    try:
        ledger.create_payment(3000, "USD", payment_id="pi_3Q")
        sim.refund_payment = ledger_refunder(ledger, lambda order: tx.meta(order["meta_data"])["_stripe_intent_id"])
        order = sim.add_order(transaction_id="ch_3Q", intent_id="pi_3Q")
        assert connector.refund_on_platform(store, _execution(order, amount=1200)).outcome is Outcome.SUCCEEDED
        assert ledger.refunded("pi_3Q") == 1200
        too_much = connector.refund_on_platform(store, _execution(order, amount=1801, hub_id="rf_plat2"))
        assert too_much.outcome is Outcome.UNKNOWN and ledger.refunded("pi_3Q") == 1200
        assert sim.shop.refunds_of(order["id"]) and len(sim.money_moves) == 1
    finally:
        ledger.close()
