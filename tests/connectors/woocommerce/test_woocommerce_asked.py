"""A WooCommerce refund request for some lines, units or an amount (the order meta
``_refund_hub_request`` a returns plugin writes), read over real HTTP from the simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import Notice, StoreContext
from hub.errors import ParseError
from hub.models import Event, Ignored, RefundRequest, RefundRequested


def _fetch(connector: WooCommerceConnector, store: StoreContext, order_id: int, topic: str = "order.updated") -> Event:
    hints = {"via": "action"} if topic == "customer.request" else {}
    notice = Notice(kind="requested", store_id=store.id, topic=topic, order_id=str(order_id), hints=hints)
    return connector.fetch(store, notice)


def _request(connector: WooCommerceConnector, store: StoreContext, order_id: int, **kw: Any) -> RefundRequest:
    event = _fetch(connector, store, order_id, **kw)
    assert isinstance(event, RefundRequested)
    return event.request


def _order(sim: WooCommerceSimulator) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    book = sim.add_product("Book", "20.00")
    mug = sim.add_product("Mug", "8.50")
    order = sim.add_order([(book["id"], 1), (mug["id"], 3)], transaction_id="ch_1", tax_rate="10")
    return order, order["line_items"]  # 22.00 + 28.05, shipping 10.00: 60.05


def test_one_line_of_two_is_asked_for_and_nothing_else(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, (_, mugs) = _order(sim)
    sim.request_refund(order["id"], "Chipped", asked={"lines": [{"line_item_id": mugs["id"], "quantity": 2}]})
    request = _request(connector, store, order["id"])
    [line] = request.lines
    assert (line.line_id, line.quantity, line.unit_price, line.tax) == (str(mugs["id"]), 2, 850, 170)
    assert (request.amount, request.shipping, request.reason_text) == (1870, 0, "Chipped")


def test_a_json_string_with_an_amount_shipping_and_reason(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, (book, _) = _order(sim)
    asked = {"lines": [{"line_item_id": book["id"], "quantity": 1}], "shipping": True, "reason": "Arrived damaged"}
    sim.request_refund(order["id"], "ignored", asked=json.dumps(asked))
    request = _request(connector, store, order["id"])
    assert (request.amount, request.shipping, request.reason_text) == (3200, 1000, "Arrived damaged")
    assert request.reason.value == "damaged"

    sim.request_refund(order["id"], asked={**asked, "amount": "5.00"})  # the later meta wins
    partial = _request(connector, store, order["id"])
    assert (partial.amount, partial.shipping, [line.line_id for line in partial.lines]) == (500, 500, [str(book["id"])])


def test_an_amount_alone_keeps_every_line_and_caps_the_money(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, items = _order(sim)
    sim.request_refund(order["id"], asked={"amount": "15.00"})
    request = _request(connector, store, order["id"])
    assert (request.amount, len(request.lines), request.shipping) == (1500, len(items), 1000)


def test_units_already_refunded_are_not_asked_for_again(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, (book, mugs) = _order(sim)
    sim.add_manual_refund(
        order["id"],
        "18.70",
        line_items=[
            {
                "id": mugs["id"],
                "quantity": 2,
                "refund_total": "17.00",
                "refund_tax": [{"id": 75, "refund_total": "1.70"}],
            }
        ],
    )
    sim.request_refund(order["id"], asked={"lines": [{"line_item_id": mugs["id"], "quantity": 3}]})
    [line] = _request(connector, store, order["id"]).lines
    assert line.quantity == 1

    sim.add_manual_refund(
        order["id"],
        "9.35",
        line_items=[
            {
                "id": mugs["id"],
                "quantity": 1,
                "refund_total": "8.50",
                "refund_tax": [{"id": 75, "refund_total": "0.85"}],
            }
        ],
    )
    event = _fetch(connector, store, order["id"])
    assert isinstance(event, Ignored)
    assert "already refunded" in event.reason


def test_the_customer_page_reads_the_whole_order_whatever_the_meta(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, items = _order(sim)
    sim.request_refund(order["id"], asked={"lines": [{"line_item_id": items[0]["id"], "quantity": 1}]})
    request = _request(connector, store, order["id"], topic="customer.request")
    assert (len(request.lines), request.amount) == (2, 6005)


@pytest.mark.parametrize(
    ("asked", "problem"),
    [
        ("{not json", "Expecting property name"),
        ([1, 2], "must be a JSON object"),
        ({"reason": "x"}, "names neither lines nor an amount"),
        ({"lines": []}, "non-empty list"),
        ({"lines": [{"line_item_id": 1, "quantity": 1}]}, "which the order does not have"),
        ({"lines": [{"line_item_id": "ITEM", "quantity": 0}]}, "quantity must be a whole number"),
        ({"lines": [{"line_item_id": "ITEM", "quantity": 2}]}, "asks for 2 of line item"),
        ({"amount": "-3"}, "more than zero"),
        ({"amount": "ten"}, "not a decimal amount"),
        ({"amount": "1.005"}, "more than 2 decimal places"),
        ({"amount": "5", "shipping": "yes"}, "true or false"),
    ],
)
def test_a_request_that_cannot_be_read_is_a_dead_letter_not_the_whole_order(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, asked: Any, problem: str
) -> None:
    book = sim.add_product("Book", "20.00")
    order = sim.add_order([(book["id"], 1)], transaction_id="ch_1")
    if isinstance(asked, dict) and asked.get("lines"):
        asked = {
            "lines": [
                {**line, "line_item_id": order["line_items"][0]["id"]} if line["line_item_id"] == "ITEM" else line
                for line in asked["lines"]
            ]
        }
    sim.request_refund(order["id"], asked=asked)
    with pytest.raises(ParseError, match=problem):
        _fetch(connector, store, order["id"])
