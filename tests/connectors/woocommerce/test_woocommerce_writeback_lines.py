"""A WooCommerce refund record says exactly what was refunded (issue 19): the refunded
``line_items`` with their quantities and totals, and not the line the policy excluded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.woocommerce import transformers as tx
from hub.ledger import states
from hub.models import Line
from tests.connectors.woocommerce.test_woocommerce_through_hub import World, open_world

EXCLUDE_CLEARANCE = {"version": "t-clearance", "exclusions": {"skus": ["CLEAR-*"], "effect": "deny"}}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path, policy=EXCLUDE_CLEARANCE)


def paid_by_stripe(
    world: World, lines: list[tuple[dict[str, Any], int]], charged: int, **options: Any
) -> tuple[dict[str, Any], str]:
    """An order of ``(product, quantity)`` lines, no shipping, ``charged`` minor units at Stripe."""
    intent = world.stripe.create_payment(charged, "USD")
    order = world.woo.add_order(
        [(int(product["id"]), quantity) for product, quantity in lines],
        payment_method="stripe",
        transaction_id=world.stripe.charge_of(intent),
        intent_id=intent,
        shipping="0.00",
        **options,
    )
    return order, intent


def test_the_refund_record_lists_only_the_refunded_line_with_its_quantity_and_total(world: World) -> None:
    lamp = world.woo.add_product("Lamp", "20.00", sku="LAMP-1")
    mug = world.woo.add_product("Mug", "5.00", sku="CLEAR-MUG")
    order, _ = paid_by_stripe(world, [(lamp, 2), (mug, 1)], 4500)  # two lamps and a mug, no shipping
    world.woo.request_refund(order["id"], "Changed my mind")
    world.settle(until=world.saw("echo_matched"))

    [refund] = [r for r in world.hub.refunds() if r.kind == "requested"]
    assert (refund.state, refund.approved_amount) == (states.WRITTEN_BACK, 4000)
    [write] = world.refund_writes()
    body = write["body"]
    assert body["api_refund"] is False and body["amount"] == "40.00"
    lamp_line = next(i for i in order["line_items"] if i["product_id"] == int(lamp["id"]))
    assert [(i["id"], i["quantity"], i["refund_total"]) for i in body["line_items"]] == [(lamp_line["id"], 2, "40.00")]


def test_a_line_the_policy_gave_back_less_for_carries_what_went_back() -> None:
    lamp = Line(line_id="7", title="Lamp", quantity=2, unit_price=2000, tax=400)
    order = {"line_items": [{"id": 7, "taxes": [{"id": 3, "total": "4.00"}]}], "shipping_lines": []}
    body = tx.refund_payload(
        amount=3960,
        currency="USD",
        reason="r",
        lines=(lamp,),
        shipping=0,
        order=order,
        meta_data={},
        api_refund=False,
        restock=False,
        line_amounts={"7": 3960},  # a 10 % restocking fee on 44.00
    )
    [line] = body["line_items"]
    assert (line["quantity"], line["refund_total"], line["refund_tax"]) == (
        2,
        "36.00",
        [{"id": 3, "refund_total": "3.60"}],
    )
    assert tx.line_refund(lamp, None) == (4000, 400)
