"""Issue 14's refund-to-order ratio through a whole hub on Adobe Commerce: the customer's order
count from ``GET /V1/orders`` by ``customer_id``, the earlier refunds from the hub's ledger."""

from __future__ import annotations

from typing import Any

from hub.ledger import states
from tests.connectors.magento.test_magento_through_hub import Shop, Shops, echo_matched, shops

__all__ = ["shops"]  # the through-hub world's fixture, shared
RATIO = {"version": "t-ratio", "abuse": {"ratio": {"max": 0.5, "min_orders": 2}}}


def _rules(refund: Any) -> dict[str, Any]:
    return {hit["rule"]: hit for hit in refund.decision["decision"]["rules"]}


def _decided(shop: Shop, count: int) -> bool:
    refunds = [r for r in shop.hub.refunds() if r.kind == "requested"]
    return len(refunds) == count and all(r.state != states.REQUESTED for r in refunds)


def test_a_customer_who_returned_half_their_orders_goes_to_review(shops: Shops) -> None:
    shop = shops.open(policy=RATIO)
    first, second = shop.order(2500), shop.order(1800)  # both the default customer's (id 7)
    shop.order(900, customer_id=8, email="other@example.com")  # someone else's order counts for nobody

    shop.magento.create_rma(first["entity_id"], reason="Arrived damaged")
    shop.settle(until=lambda: echo_matched(shop))
    [refunded] = [r for r in shop.hub.refunds() if r.kind == "requested"]
    assert refunded.state == states.WRITTEN_BACK  # refunds on 1 of 2 orders: within the limit
    assert refunded.request["customer"]["order_count"] == 2
    assert "abuse.ratio" not in _rules(refunded)

    shop.magento.create_rma(second["entity_id"], reason="Arrived damaged")
    shop.settle(until=lambda: _decided(shop, 2))
    held = next(r for r in shop.hub.refunds() if r.kind == "requested" and r.id != refunded.id)
    assert held.state == states.REVIEW
    hit = _rules(held)["abuse.ratio"]
    assert hit["effect"] == "review"
    assert hit["detail"].startswith("refunds on 2 of 2 orders, counting this one (limit 50% of orders)")
    assert [r.amount for r in shop.stripe_refunds()] == [2500]  # the held one moved no money
