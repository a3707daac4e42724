"""Shopify deletes an Admin API webhook subscription after 8 failed deliveries in a row: the hub
hears nothing more from the shop. The janitor's check sees the missing topic and subscribes again,
and its poll catches up on what was missed meanwhile — a return waiting for a decision, a refund
made in the Shopify admin — each once, however often it polls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.shopify.settings import SUBSCRIBED_TOPICS
from hub.ledger import states
from hub.work.janitor import sweep
from tests.connectors.shopify.conftest import shared_sim, sim  # noqa: F401 - fixtures
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401


def subscribed(w: World) -> World:
    """A shop as an install leaves it: every topic subscribed to the hub (the janitor's first check)."""
    w.settle()
    [shop] = w.shops
    assert sorted(shop.subscriptions) == sorted("/".join(t.lower().rsplit("_", 1)) for t in SUBSCRIBED_TOPICS)
    return w


def health(w: World) -> list[Any]:
    return [a for a in w.hub.audit() if a.action == "webhook_health"]


def test_a_deleted_subscription_is_made_again_and_the_return_it_missed_is_refunded_once(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = subscribed(make_world())
    [shop] = w.shops
    before = len(health(w))
    w.sim.delete_subscription(shop, "returns/request")  # the hub was down for four hours
    order = w.sim.add_order(shop, [("Kettle", 3900)])
    w.sim.request_return(order, reason="DEFECTIVE")
    assert w.deliveries("returns/request") == []  # nothing was delivered

    w.settle(until=lambda: any(r.state == states.WRITTEN_BACK for r in w.hub.refunds()))
    [refund] = w.hub.refunds()
    assert (refund.state, refund.approved_amount, refund.delivery_id) == (states.WRITTEN_BACK, 3900, None)
    assert len(w.sim.mutations("refundCreate", shop)) == 1
    problems = [a.detail["problem"] for a in health(w)[before:]]
    assert problems == ["webhook subscriptions missing, subscribed again: RETURNS_REQUEST"]
    assert shop.subscriptions["returns/request"] == [f"{w.url}/webhooks/shopify"]

    for _ in range(3):  # later polls hand over nothing new: nothing more is made, refunded or written
        assert sweep(w.hub.hub)["polled"] == 0
    assert len(w.hub.refunds()) == 1 and len(w.sim.mutations("refundCreate", shop)) == 1

    second = w.sim.add_order(shop, [("Toaster", 2300)])
    w.sim.request_return(second, reason="DEFECTIVE")  # the subscription delivers again
    w.settle(until=lambda: len(w.deliveries("returns/request")) == 1)
    assert len(w.deliveries("returns/request")) == 1


def test_a_refund_made_in_the_admin_while_unsubscribed_is_recorded_once(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = subscribed(make_world())
    [shop] = w.shops
    w.sim.delete_subscription(shop, "refunds/create")
    order = w.sim.add_order(shop, [("Lamp", 4200)])
    w.sim.merchant_refund(order, 1500)
    w.settle()

    [recorded] = w.hub.refunds()
    assert (recorded.kind, recorded.state, recorded.amount) == ("recorded", states.RECORDED, 1500)
    assert recorded.delivery_id is None  # found by the poll
    assert w.sim.mutations("refundCreate", shop) == []  # recorded, never executed
    w.settle()
    assert len(w.hub.refunds()) == 1
