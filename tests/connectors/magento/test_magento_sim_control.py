"""The Magento simulator's ``/__sim`` control API over HTTP: an order seeded through a gateway, an RMA
that fires the signed I/O Event, and Magento's own record of its credit memos (online or offline)."""

from __future__ import annotations

from typing import Any

import requests

from connectors.magento.sim import MagentoSimulator


def _order(sim: MagentoSimulator, **body: Any) -> dict[str, Any]:
    spec = {"lines": [{"title": "Rain jacket", "price": 9900}], **body}
    answer = requests.post(f"{sim.url}/__sim/orders", json=spec, timeout=5)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_seeded_order_is_invoiced_and_carries_the_gateway_transaction(sim: MagentoSimulator) -> None:
    order = _order(sim, method="squareup_payment", last_trans_id="sq_pay_1")
    assert (order["total"], order["refunded"], order["refunds"]) == (9900, 0, [])
    assert order["payment"] == {"method": "squareup_payment", "reference": "sq_pay_1"}
    stored = sim.order(order["id"])
    assert stored["items"][0]["sku"] == "RAIN-JACKET" and float(stored["total_paid"]) == 99.0


def test_a_return_fires_the_signed_rma_event(sim: MagentoSimulator, wired: Any, receiver: Any) -> None:
    order = _order(sim, method="paypal_express", last_trans_id="CAPTURE-1")
    answer = requests.post(f"{sim.url}/__sim/returns", json={"order_id": order["id"]}, timeout=5)
    assert answer.status_code == 202
    rma = answer.json()
    assert rma["order_id"] == order["id"] and sim.rma(rma["id"])["order_id"] == order["id"]
    notices = receiver.wait()
    assert [(n.kind, n.order_id) for n in notices] == [("requested", str(order["id"]))]
    assert not receiver.refused


def test_the_record_tells_an_offline_credit_memo_from_an_online_one(sim: MagentoSimulator) -> None:
    offline = _order(sim, method="squareup_payment", last_trans_id="sq_pay_2")
    sim.merchant_refund(offline["id"], online=False)
    shown = requests.get(f"{sim.url}/__sim/orders/{offline['id']}", timeout=5).json()
    assert (shown["refunded"], [(m["recorded"], m["amount"], m["online"]) for m in shown["refunds"]]) == (
        0,
        [(9900, 0, False)],
    )
    online = _order(sim, method="stripe_payments", last_trans_id="pi_online")
    sim.merchant_refund(online["id"], online=True)
    shown = requests.get(f"{sim.url}/__sim/orders/{online['id']}", timeout=5).json()
    assert (shown["refunded"], [(m["amount"], m["online"]) for m in shown["refunds"]]) == (9900, [(9900, True)])


def test_bad_control_requests_are_refused(sim: MagentoSimulator, open_sim: MagentoSimulator) -> None:
    assert requests.post(f"{sim.url}/__sim/orders", json={"lines": []}, timeout=5).status_code == 400
    assert requests.post(f"{sim.url}/__sim/orders", json=[1], timeout=5).status_code == 400
    assert requests.post(f"{sim.url}/__sim/returns", json={"order_id": 999999}, timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/__sim/orders/999999", timeout=5).status_code == 404
    order = _order(open_sim, method="checkmo")
    assert requests.post(f"{open_sim.url}/__sim/returns", json={"order_id": order["id"]}, timeout=5).status_code == 404
