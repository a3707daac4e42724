"""Issue 14's refund-to-order ratio through a whole hub on Shopify: the customer's numberOfOrders
read from the simulator's Customer, the hub's own ledger supplying the earlier refunds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.ledger import states
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim

__all__ = ["make_world", "stripe_sim"]  # the through-hub world's fixtures, shared
RATIO = {"version": "t-ratio", "abuse": {"ratio": {"max": 0.5, "min_orders": 2}}}


def _settled(w: World, count: int) -> Callable[[], bool]:
    return lambda: len(w.hub.refunds()) == count and all(r.state != states.REQUESTED for r in w.hub.refunds())


def _rules(refund: Any) -> list[str]:
    return [hit["rule"] for hit in refund.decision["decision"]["rules"]]


def test_a_customer_who_returned_half_their_orders_goes_to_review(make_world: Callable[..., World]) -> None:
    w = make_world(policy=RATIO)
    [shop] = w.shops
    first = w.sim.add_order(shop, [("Kettle", 3900)], customer_id=501, email="ann@example.com")
    second = w.sim.add_order(shop, [("Teapot", 2500)], customer_id=501, email="ann@example.com")
    w.sim.add_order(shop, [("Mug", 900)], customer_id=777, email="bob@example.com")  # another customer

    w.sim.request_return(first, reason="DEFECTIVE")
    w.settle(until=lambda: any(r.state == states.WRITTEN_BACK for r in w.hub.refunds()))
    [refunded] = w.hub.refunds()
    assert refunded.state == states.WRITTEN_BACK  # refunds on 1 of 2 orders: within the limit
    assert refunded.request["customer"]["order_count"] == 2
    assert "abuse.ratio" not in _rules(refunded)

    w.sim.request_return(second, reason="DEFECTIVE")
    w.settle(until=_settled(w, 2))
    held = next(r for r in w.hub.refunds() if r.id != refunded.id)
    assert held.state == states.REVIEW
    [hit] = [h for h in held.decision["decision"]["rules"] if h["rule"] == "abuse.ratio"]
    assert hit["effect"] == "review"
    assert hit["detail"].startswith("refunds on 2 of 2 orders, counting this one (limit 50% of orders)")
    assert w.sim.refunded(second) == 0  # no money moved while a person looks


def test_without_the_customers_order_count_the_ratio_is_said_to_be_unchecked(
    make_world: Callable[..., World],
) -> None:
    w = make_world(policy=RATIO)
    [shop] = w.shops
    shop.scopes = shop.scopes - {"read_customers"}  # an install from before the scope was asked for
    order = w.sim.add_order(shop, [("Kettle", 3900)], customer_id=502, email="cy@example.com")
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: any(r.state == states.WRITTEN_BACK for r in w.hub.refunds()))

    [refund] = w.hub.refunds()
    assert refund.request["customer"]["order_count"] is None
    assert "unknown.abuse.ratio" in _rules(refund)
    assert "We could not compare your refunds with your orders" in refund.decision["decision"]["explanation"]
