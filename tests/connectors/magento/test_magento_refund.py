"""refund_on_platform and get_platform_refund against the simulator: online credit memos, once."""

from __future__ import annotations

from typing import Any

import pytest

from hub.contracts import Execution, Outcome, RefundLookup
from hub.models import Line
from hub.sandbox.gatewaysim import SimError


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
