"""The simulator's ``/__sim`` control API: orders seeded over HTTP, returns fired (and re-delivered
under the same event id), and what Shopify moved read back, as ``refund-hub demo`` uses them."""

from __future__ import annotations

from typing import Any

import requests

from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimShop

from .conftest import HubStub, wait_for


def _post(sim: ShopifySimulator, path: str, body: Any) -> requests.Response:
    return requests.post(f"{sim.url}/__sim/{path}", json=body, timeout=5)


def test_an_order_paid_through_an_outside_gateway_carries_its_reference(sim: ShopifySimulator, shop: SimShop) -> None:
    answer = _post(
        sim,
        "orders",
        {
            "shop": shop.domain,
            "lines": [{"title": "Lamp", "price": 4200}, {"title": "Bulb", "price": 300, "quantity": 2}],
            "gateway": "stripe",
            "reference": "pi_control123",
        },
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    order = shop.orders[made["id"]]
    assert (made["total"], order.total) == (4800, 4800)
    [sale] = order.transactions
    assert (sale.kind, sale.gateway, sale.authorization) == ("SALE", "stripe", "pi_control123")
    assert made["payment"] == {"gateway": "stripe", "reference": "pi_control123"}
    assert [line["quantity"] for line in made["lines"]] == [1, 2]

    shown = requests.get(f"{sim.url}/__sim/orders/{order.id}", params={"shop": shop.domain}, timeout=5).json()
    assert (shown["refunded"], shown["refunds"]) == (0, [])


def test_a_return_fires_one_signed_event_delivered_as_often_as_asked(
    sim: ShopifySimulator, shop: SimShop, hub: HubStub
) -> None:
    order = _post(sim, "orders", {"shop": shop.domain, "amount": 2800}).json()
    answer = _post(
        sim, "returns", {"shop": shop.domain, "order_id": order["id"], "reason": "DEFECTIVE", "deliveries": 2}
    )
    assert answer.status_code == 202, answer.text
    ret = shop.returns[answer.json()["id"]]
    assert [(x.line_id, x.quantity, x.reason) for x in ret.lines] == [(order["lines"][0]["id"], 1, "DEFECTIVE")]

    received = wait_for(lambda: len(hub.deliveries("returns/request")) == 2 and hub.deliveries("returns/request"))
    assert {item.headers.get("X-Shopify-Event-Id") for _, item in received} == {answer.json()["event_id"]}
    assert len({verified.dedupe_key for verified, _ in received}) == 1  # the hub keeps one
    assert all(verified.store_id == shop.domain for verified, _ in received)
    assert len(sim.webhooks_for("returns/request", shop)) == 1  # one event, two deliveries


def test_a_return_of_chosen_lines(sim: ShopifySimulator, shop: SimShop) -> None:
    order = _post(
        sim,
        "orders",
        {
            "shop": shop.domain,
            "lines": [{"title": "Cup", "price": 900, "quantity": 3}, {"title": "Pot", "price": 2000}],
        },
    ).json()
    cup = order["lines"][0]["id"]
    answer = _post(sim, "returns", {"shop": shop.domain, "order_id": order["id"], "lines": {str(cup): 2}})
    assert answer.status_code == 202, answer.text
    [line] = shop.returns[answer.json()["id"]].lines
    assert (line.line_id, line.quantity) == (cup, 2)


def test_read_back_shows_what_shopify_moved(sim: ShopifySimulator, shop: SimShop) -> None:
    paid_here = sim.add_order(shop, [("Kettle", 3900)])
    sim.merchant_refund(paid_here, 1500, note="partial")
    shown = requests.get(f"{sim.url}/__sim/orders/{paid_here.id}", params={"shop": shop.domain}, timeout=5).json()
    assert shown["refunded"] == 1500
    assert [(r["amount"], r["note"]) for r in shown["refunds"]] == [(1500, "partial")]


def test_bad_control_requests_are_refused_with_a_reason(
    sim: ShopifySimulator, shop: SimShop, other_shop: SimShop
) -> None:
    order = sim.add_order(shop, [("Vase", 3300)])
    cases = [
        (_post(sim, "orders", {"shop": "nope.myshopify.com", "amount": 100}), 404, "no shop"),
        (_post(sim, "orders", {"amount": 100}), 400, "name the shop"),  # two shops or more
        (_post(sim, "orders", {"shop": shop.domain}), 400, "bad order"),
        (_post(sim, "orders", {"shop": shop.domain, "lines": [["Pot", 2000]]}), 400, "bad order"),
        (_post(sim, "orders", [1, 2]), 400, "JSON object"),
        (_post(sim, "returns", {"shop": shop.domain, "order_id": 1}), 404, "no order"),
        (_post(sim, "returns", {"shop": other_shop.domain, "order_id": order.id}), 404, "no order"),
        (_post(sim, "returns", {"shop": shop.domain, "order_id": order.id, "deliveries": 0}), 400, "deliveries"),
        (_post(sim, "returns", {"shop": shop.domain, "order_id": order.id, "lines": {"1": 1}}), 400, "no line"),
    ]
    for answer, status, words in cases:
        assert (answer.status_code, words in answer.json()["errors"]) == (status, True), answer.text
    assert shop.returns == {}


def test_the_only_shop_may_be_left_out() -> None:
    with ShopifySimulator() as sim:
        assert isinstance(sim, ShopifySimulator)
        shop = sim.add_shop("solo.myshopify.com")
        made = _post(sim, "orders", {"amount": 1200, "gateway": "paypal", "reference": "CAPTURE0000000001"}).json()
        assert shop.orders[made["id"]].transactions[0].receipt == {"transaction_id": "CAPTURE0000000001"}
        assert _post(sim, "returns", {"order_id": made["id"]}).status_code == 202
