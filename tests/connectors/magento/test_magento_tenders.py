"""A Magento order captured in parts through PayPal (two invoices, two captures of one PayPal
order), through the whole hub (issue 19): the return is refunded capture by capture, each within
its own capture's balance and with its own key, and written back as ONE offline credit memo that
lists the returned items — exactly what was refunded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.magento.sim import MagentoSimulator
from gateways.paypal.sim import PayPalSimulator
from gateways.paypal.sim.state import paypal_id
from hub.ledger import states, tenders
from hub.testing.harness import HubHarness


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[HubHarness, MagentoSimulator, PayPalSimulator]]:
    magento, paypal = MagentoSimulator(edition="commerce"), PayPalSimulator()
    magento.start()
    paypal.start()
    store = magento.store()
    harness = HubHarness(
        tmp_path,
        connectors={"magento": magento.hub_settings()},
        gateways={"paypal": {"type": "paypal", **paypal.hub_settings()}},
        stores={
            store["id"]: {
                "connector": "magento",
                "settings": {**store["settings"], "tender_strategy": tenders.IN_ORDER},
                "credentials": store["credentials"],
                "routes": {"paypal_express": "gateway:paypal"},
            }
        },
        policies={"default": {"version": "t-approve"}},
    )
    magento.webhook_url = f"{harness.url}/webhooks/magento"
    paypal.webhook_url = f"{harness.url}/webhooks/gateway/paypal"
    try:
        yield harness, magento, paypal
    finally:
        harness.close()
        magento.stop()
        paypal.stop()


def captured_twice(magento: MagentoSimulator, paypal: PayPalSimulator) -> tuple[dict[str, Any], str, str]:
    """Two tees (60.00) invoiced in two parts: 40.00 and 20.00, two captures of one PayPal order."""
    paypal_order = paypal_id()
    first = paypal.create_payment(4000, "USD", order_id=paypal_order)
    second = paypal.create_payment(2000, "USD", order_id=paypal_order)
    order = magento.add_order(
        [{"sku": "TEE", "price": 3000, "qty": 2}], method="paypal_express", captures=[(4000, first), (2000, second)]
    )
    return order, first, second


def written_back(hub: HubHarness) -> Callable[[], bool]:
    return lambda: any(r.state == states.WRITTEN_BACK and r.parent_id is None for r in hub.refunds())


def test_an_order_captured_twice_is_refunded_capture_by_capture_and_recorded_once(world: Any) -> None:
    hub, magento, paypal = world
    order, first, second = captured_twice(magento, paypal)
    magento.create_rma(order["entity_id"], reason="Changed my mind")
    hub.settle(senders=[magento.sender, paypal.sender], until=written_back(hub))

    rows = hub.refunds()
    [parent] = [r for r in rows if r.parent_id is None]
    parts = sorted((r for r in rows if r.parent_id == parent.id), key=lambda r: r.approved_amount, reverse=True)
    assert (parent.state, parent.approved_amount) == (states.WRITTEN_BACK, 6000)
    # more than the first capture holds: each capture gives back its own, with its own key
    assert [(p.approved_amount, p.state) for p in parts] == [(4000, states.WRITTEN_BACK), (2000, states.WRITTEN_BACK)]
    assert [r.amount for r in paypal.ledger.refunds_of(first)] == [4000]
    assert [r.amount for r in paypal.ledger.refunds_of(second)] == [2000]
    keys = {r.key for c in (first, second) for r in paypal.ledger.refunds_of(c)}
    assert keys == {p.idempotency_key for p in parts}

    (memo,) = magento.creditmemos(order["entity_id"])  # one record of the whole refund
    assert [(i["sku"], i["qty"]) for i in memo["items"]] == [("TEE", 2)]
    assert memo["transaction_id"] is None  # offline: it moved no money
    assert {p.writeback_ref for p in parts} == {str(memo["entity_id"])}


def test_duplicate_deliveries_and_a_lost_paypal_answer_move_each_capture_once(world: Any) -> None:
    hub, magento, paypal = world
    order, first, second = captured_twice(magento, paypal)
    paypal.faults.add("lost_response", method="POST", path=r"/captures/[^/]+/refund$")  # one part's answer
    magento.create_rma(order["entity_id"], reason="Changed my mind")
    for pushed in list(magento.sender.history):  # every I/O event delivered twice, as Adobe may
        magento.sender.send(pushed.url, pushed.body, pushed.headers)
    hub.settle(senders=[magento.sender, paypal.sender], until=written_back(hub))
    for pushed in list(magento.sender.history):
        magento.sender.send(pushed.url, pushed.body, pushed.headers)
    hub.settle(senders=[magento.sender, paypal.sender])

    rows = hub.refunds()
    assert len([r for r in rows if r.parent_id is None]) == 1
    assert [r.amount for r in paypal.ledger.refunds_of(first)] == [4000]
    assert [r.amount for r in paypal.ledger.refunds_of(second)] == [2000]
    assert len(magento.creditmemos(order["entity_id"])) == 1
    unknown = [a for r in rows if r.parent_id for a in hub.audit(r.id) if a.detail.get("outcome") == "unknown"]
    assert unknown  # the lost answer left one part in doubt until PayPal was asked


def test_gift_card_and_store_credit_are_tenders_the_card_refunds_within_its_own_and_a_person_gets_the_rest(
    world: Any,
) -> None:
    """Two tees (60.00) paid 15.00 by an Adobe Commerce gift card, 5.00 by store credit and 40.00 by
    PayPal. No REST call returns money to a gift card account or store credit, so those take no
    share: the first tee goes back to the card; the second is more than the card has left, and
    waits for a person instead of being refused or paid from the wrong tender."""
    hub, magento, paypal = world
    capture = paypal.create_payment(4000, "USD", order_id=paypal_id())
    order = magento.add_order(
        [{"sku": "TEE", "price": 3000, "qty": 2}],
        method="paypal_express",
        last_trans_id=capture,
        gift_cards=[1500],
        store_credit=500,
    )
    assert order["grand_total"] == 40.0 and order["extension_attributes"]["gift_cards_amount"] == 15.0
    [item] = order["items"]
    magento.create_rma(order["entity_id"], {int(item["item_id"]): 1}, reason="Too small")
    hub.settle(senders=[magento.sender, paypal.sender], until=written_back(hub))

    [first] = [r for r in hub.refunds() if r.parent_id is None]
    tenders_seen = [(p["platform_label"], p["captured"], p.get("tender")) for p in first.request["payments"]]
    assert tenders_seen == [
        ("paypal_express", 4000, "payment"),
        ("giftcardaccount", 1500, "gift_card"),
        ("customerbalance", 500, "store_credit"),
    ]
    assert (first.state, first.approved_amount) == (states.WRITTEN_BACK, 3000)
    assert [r.amount for r in paypal.ledger.refunds_of(capture)] == [3000]
    [memo] = magento.creditmemos(order["entity_id"])
    assert [(i["sku"], i["qty"]) for i in memo["items"]] == [("TEE", 1)]

    magento.create_rma(order["entity_id"], {int(item["item_id"]): 1}, reason="Too small")
    hub.settle(senders=[magento.sender, paypal.sender])
    second = next(r for r in hub.refunds() if r.parent_id is None and r.id != first.id)
    assert (second.state, second.amount) == (states.REVIEW, 3000)
    decided = [a for a in hub.audit(second.id) if a.action == "decided"]
    assert "hard.over_refundable" in decided[-1].detail["rules"]  # 10.00 left on the card
    assert [r.amount for r in paypal.ledger.refunds_of(capture)] == [3000]  # nothing more moved
    assert len(magento.creditmemos(order["entity_id"])) == 1
