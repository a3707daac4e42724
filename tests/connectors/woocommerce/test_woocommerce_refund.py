"""The platform route against the simulated store: ``api_refund: true`` guarded by the hub id, lookups, faults."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce import transformers as tx
from connectors.woocommerce.sim import WooCommerceSimulator, ledger_refunder
from hub.contracts import Execution, Outcome, StoreContext
from hub.models import RefundRecorded
from hub.sandbox.gatewaysim import SimLedger
from hub.testing import executions
from hub.testing.executions import lookup_for

from .conftest import Wait, _writes


def _execution(order: Mapping[str, Any], amount: int = 1000, hub_id: str = "rf_plat1") -> Execution:
    order_id = str(order["id"])
    return executions.execution(
        "ch_1", amount, hub_refund_id=hub_id, order_id=order_id, payment_extra={"order_id": order_id}
    )


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


def test_overlapping_platform_refunds_move_money_once(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    execution = _execution(order)
    sim.faults.add("latency", seconds=0.4, method="GET", path=r"/refunds$", times=2)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(connector.refund_on_platform(store, execution)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2 and {r.gateway_refund_id for r in results} == {results[0].gateway_refund_id}
    assert len(sim.money_moves) == 1 and len(sim.shop.refunds_of(order["id"])) == 1


def test_platform_refund_lost_before_its_meta_was_saved_is_found_not_repeated(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order = sim.add_order(transaction_id="ch_1")
    execution = _execution(order)
    sim.crash_refund_before_meta()
    assert connector.refund_on_platform(store, execution).outcome is Outcome.UNKNOWN
    [made] = sim.shop.refunds_of(order["id"])
    found = connector.get_platform_refund(store, lookup_for(execution))
    assert found is not None and (found.outcome, found.gateway_refund_id) == (Outcome.SUCCEEDED, str(made))
    by_id = connector.get_platform_refund(store, lookup_for(replace(execution, payment_extra={}), str(made)))
    assert by_id is not None and by_id.gateway_refund_id == str(made)
    again = connector.refund_on_platform(store, execution)
    assert again.gateway_refund_id == str(made) and len(sim.money_moves) == 1
