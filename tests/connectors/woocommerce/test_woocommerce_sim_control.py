"""The WooCommerce simulator's ``/__sim`` control API over HTTP: an order seeded through a gateway, a
refund request that fires the signed ``order.updated``, and the store's own record of what it refunded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator


def _order(sim: WooCommerceSimulator, **body: Any) -> dict[str, Any]:
    spec = {"lines": [{"title": "Camp stove", "price": 6400}, {"title": "Fuel", "price": 600}], **body}
    answer = requests.post(f"{sim.url}/__sim/orders", json=spec, timeout=5)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_seeded_order_carries_the_gateway_payment(sim: WooCommerceSimulator) -> None:
    order = _order(sim, payment_method="stripe", transaction_id="pi_123")
    assert (order["total"], order["refunded"], order["refunds"]) == (7000, 0, [])
    assert order["payment"] == {"method": "stripe", "reference": "pi_123"}
    stored = sim.shop.render_order(order["id"])
    assert {"key": "_stripe_intent_id", "value": "pi_123"} in [
        {"key": m["key"], "value": m["value"]} for m in stored["meta_data"]
    ]
    assert stored["total"] == "70.00" and stored["date_paid_gmt"]


def test_a_refund_request_fires_the_signed_order_updated(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, hub_side: Any, wait: Callable[..., Any]
) -> None:
    order = _order(sim, payment_method="stripe", transaction_id="pi_9")
    answer = requests.post(f"{sim.url}/__sim/refund-requests", json={"order_id": order["id"], "reason": "broken"})
    assert answer.status_code == 202
    assert answer.json() == {"order_id": order["id"], "status": "refund-requested"}
    requested = wait(lambda: [n for n in hub_side.notices("order.updated") if n.kind == "requested"])
    assert [n.source_ref for n in requested] == [f"request:{order['id']}"]
    shown = requests.get(f"{sim.url}/__sim/orders/{order['id']}", timeout=5).json()
    assert shown["status"] == "refund-requested"


def test_the_record_tells_a_write_back_from_money_the_store_moved(sim: WooCommerceSimulator) -> None:
    order = _order(sim, payment_method="stripe", transaction_id="pi_7")
    sim.shop.create_refund(order["id"], {"amount": "64.00", "api_refund": False, "meta_data": []})
    sim.shop.create_refund(order["id"], {"amount": "6.00", "api_refund": True})
    shown = requests.get(f"{sim.url}/__sim/orders/{order['id']}", timeout=5).json()
    assert shown["refunded"] == 600
    assert [(r["recorded"], r["amount"], r["refunded_payment"]) for r in shown["refunds"]] == [
        (6400, 0, False),
        (600, 600, True),
    ]


def test_bad_control_requests_are_refused(sim: WooCommerceSimulator) -> None:
    assert requests.post(f"{sim.url}/__sim/orders", json={"lines": []}, timeout=5).status_code == 400
    assert requests.post(f"{sim.url}/__sim/orders", json={"lines": [{"price": 1}]}, timeout=5).status_code == 400
    assert requests.post(f"{sim.url}/__sim/refund-requests", json={"order_id": 999}, timeout=5).status_code == 404
    assert requests.get(f"{sim.url}/__sim/orders/999", timeout=5).status_code == 404
