"""Since Admin API 2025-07 a returns app must process the returns it refunds: a Return refunded with
``refundCreate`` alone stays open in the merchant's admin. After the money moved — by Shopify
itself or at an outside gateway — the hub approves a requested Return and processes the lines the
refund paid for (no ``financialTransfer``: nothing moves again), once, so Shopify closes it."""

from __future__ import annotations

from collections.abc import Callable

from connectors.shopify.returns import to_process
from hub.ledger import states
from hub.models import Line
from tests.connectors.shopify.conftest import shared_sim, sim  # noqa: F401 - fixtures
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401

EXCLUDE_SAMPLES = {
    "version": "no-samples",
    "exclusions": {"skus": ["SAMPLE-*"], "effect": "deny", "review_reasons": []},
}


def written_back(w: World) -> Callable[[], bool]:
    return lambda: any(r.state == states.WRITTEN_BACK for r in w.hub.refunds())


def test_a_return_refunded_by_shopify_is_approved_processed_and_closed_once(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = make_world()
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Kettle", 3900), {"title": "Filter", "price": 600, "quantity": 2}])
    ret = w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: ret.status == "CLOSED")

    [refund] = w.hub.refunds()
    assert (refund.route, refund.state, refund.approved_amount) == ("platform", states.WRITTEN_BACK, 5100)
    assert len(w.sim.mutations("refundCreate", shop)) == 1
    [approved] = w.sim.mutations("returnApproveRequest", shop)
    assert approved.variables == {"id": ret.gid}
    [processed] = w.sim.mutations("returnProcess", shop)
    assert "financialTransfer" not in processed.variables  # the money moved with refundCreate
    assert sorted(i["quantity"] for i in processed.variables["returnLineItems"]) == [1, 2]
    assert (ret.status, [line.processed for line in ret.lines]) == ("CLOSED", [line.quantity for line in ret.lines])

    w.settle()  # its approve and close webhooks came back: nothing more is refunded or processed
    assert len(w.hub.refunds()) == 1
    assert len(w.sim.mutations("returnProcess", shop)) == 1 and len(w.sim.mutations("refundCreate", shop)) == 1


def test_a_return_refunded_at_stripe_is_processed_by_the_write_back(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = make_world()
    [shop] = w.shops
    intent = w.stripe.create_payment(4200, "USD")
    order = w.sim.add_order(shop, [("Lamp", 4200)], gateway="stripe", reference=intent)
    ret = w.sim.request_return(order, reason="WRONG_ITEM")
    w.settle(until=lambda: ret.status == "CLOSED")

    [refund] = w.hub.refunds()
    assert (refund.route, refund.state) == ("gateway:stripe", states.WRITTEN_BACK)
    assert [r.amount for r in w.stripe.ledger.refunds_of(intent)] == [4200]
    [processed] = w.sim.mutations("returnProcess", shop)
    assert processed.variables["returnLineItems"] == [
        {"id": f"gid://shopify/ReturnLineItem/{ret.lines[0].id}", "quantity": 1}
    ]


def test_a_line_the_policy_excluded_stays_open_for_a_person(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = make_world(policy=EXCLUDE_SAMPLES)
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Kettle", 3900), {"title": "Sample", "price": 500, "sku": "SAMPLE-1"}])
    ret = w.sim.request_return(order, reason="UNWANTED")
    w.settle(until=written_back(w))

    [refund] = w.hub.refunds()
    assert refund.approved_amount == 3900  # the sample is not refunded
    [processed] = w.sim.mutations("returnProcess", shop)
    assert len(processed.variables["returnLineItems"]) == 1
    assert ret.status == "OPEN"  # the sample's line waits for the merchant
    assert sorted(line.processed for line in ret.lines) == [0, 1]


def test_only_what_is_still_processable_is_asked_for() -> None:
    found = {
        "returnLineItems": {
            "nodes": [
                {
                    "id": "rli-1",
                    "processableQuantity": 1,
                    "fulfillmentLineItem": {"lineItem": {"id": "gid://shopify/LineItem/7"}},
                },
                {
                    "id": "rli-2",
                    "processableQuantity": 2,
                    "fulfillmentLineItem": {"lineItem": {"id": "gid://shopify/LineItem/7"}},
                },
                {
                    "id": "rli-3",
                    "processableQuantity": 0,
                    "fulfillmentLineItem": {"lineItem": {"id": "gid://shopify/LineItem/8"}},
                },
            ]
        }
    }
    lines = (Line(line_id="7", quantity=2, unit_price=100), Line(line_id="8", quantity=1, unit_price=100))
    assert to_process(found, lines) == [{"id": "rli-1", "quantity": 1}, {"id": "rli-2", "quantity": 1}]
    assert to_process(found, ()) == []
