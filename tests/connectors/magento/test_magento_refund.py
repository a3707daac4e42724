"""refund_on_platform and get_platform_refund against the simulator: online credit memos, once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from connectors.magento import MagentoConnector
from connectors.magento.client import MagentoClient
from connectors.magento.sim.state import MagentoFault
from hub.contracts import Execution, Outcome, RefundLookup
from hub.errors import PlatformUnavailable
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


def test_the_connector_claims_no_replay_and_no_complete_lookup() -> None:
    # Magento has no idempotency key, and no credit memo proves the payment module did nothing
    assert MagentoConnector.lookup_is_complete is False and MagentoConnector.replay_window is None


def test_a_rollback_after_the_gateway_is_unknown_not_failed(kit: Any) -> None:
    moved: list[int] = []

    def paid_then_rolled_back(order: dict[str, Any], amount: int, currency: str) -> str:
        moved.append(amount)  # the gateway refunded, then Magento's transaction rolled back
        raise MagentoFault(400, "Could not save a Creditmemo, see error log for details")

    sim = kit.start("open_source", online_refund=paid_then_rolled_back)
    try:
        connector, store = kit.connect(sim)
        order = sim.add_order([{"sku": "TEE", "price": 3000}], method="braintree", last_trans_id="bt_rb")
        result = connector.refund_on_platform(store, execution(order, "rf_rolled", 3000))
        assert (result.outcome, result.code, moved) == (Outcome.UNKNOWN, "rolled_back", [3000])
        assert connector.get_platform_refund(store, lookup(order, "rf_rolled", 3000)) is None  # no trace in Magento
        again = connector.refund_on_platform(store, execution(order, "rf_rolled", 3000))  # a stray repeat
        assert again.outcome is Outcome.UNKNOWN and moved == [3000]  # never sent twice
    finally:
        sim.stop()


def test_overlapping_platform_refunds_move_money_once(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 2500}], method="braintree", last_trans_id="bt_overlap")
    sim.faults.add("latency", seconds=1.0, method="POST", path=r"/invoice/\d+/refund")
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(connector.refund_on_platform(store, execution(order, "rf_ov", 2500)))
    )
    first.start()
    time.sleep(0.3)
    results.append(connector.refund_on_platform(store, execution(order, "rf_ov", 2500)))
    first.join()
    assert sorted(r.outcome.value for r in results) == ["succeeded", "unknown"]
    assert len(sim.creditmemos(order["entity_id"])) == 1 and sim.ledger.refunded("bt_overlap") == 2500


def test_a_lookup_that_cannot_read_every_credit_memo_is_unknown(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 2000}], method="braintree", last_trans_id="bt_many")
    sim.fail_page("creditmemos", 1, status=503)
    found = connector.get_platform_refund(store, lookup(order, "rf_many", 2000))
    assert found is not None and found.outcome is Outcome.UNKNOWN  # never "no trace" from a partial read


def test_credit_memo_states_are_outcomes(sim: Any, wired: Any) -> None:
    connector, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 2000}], method="braintree", last_trans_id="bt_states")
    made = connector.refund_on_platform(store, execution(order, "rf_states", 2000, full_refund=True))
    memo = sim.state.creditmemos[int(str(made.gateway_refund_id))]
    for state, outcome in ((1, Outcome.PENDING), (2, Outcome.SUCCEEDED), (3, Outcome.FAILED)):
        memo["state"] = state
        found = connector.get_platform_refund(store, lookup(order, "rf_states", 2000))
        assert found is not None and found.outcome is outcome


def test_a_credit_memo_lookup_never_answers_from_part_of_the_list(sim: Any, wired: Any) -> None:
    _, store = wired
    order = sim.add_order([{"sku": "TEE", "price": 3000, "qty": 3}], method="checkmo")
    for _ in range(3):
        sim.state.refund_order(
            order["entity_id"], {"items": [{"order_item_id": order["items"][0]["item_id"], "qty": 1}]}
        )
    groups = [[("order_id", str(order["entity_id"]), "eq")]]
    with MagentoClient(store) as client:
        assert len(client.search_all("creditmemos", groups, page_size=1, max_pages=3)) == 3
        with pytest.raises(PlatformUnavailable):
            client.search_all("creditmemos", groups, page_size=1, max_pages=2)
