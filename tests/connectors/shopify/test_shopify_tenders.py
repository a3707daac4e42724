"""Shopify orders paid more than one way, through the whole hub (issue 19's "done when"): a gift
card plus Shopify Payments, a gift card plus an outside Stripe gateway. The hub reads every
transaction, splits the refund as Shopify's ``suggestedRefund`` does, and runs each part as its
own execution with its own key; duplicate deliveries and a lost response move each part once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.shopify.sim.state import SimOrder
from gateways.stripe.sim import StripeSimulator
from hub.ledger import states, tenders
from hub.pipeline import settle as settle_parts
from hub.pipeline.review import review_decision
from tests.connectors.shopify.test_shopify_through_hub import World
from tests.connectors.shopify.test_shopify_through_hub import make_world as make_world  # the through-hub fixtures
from tests.connectors.shopify.test_shopify_through_hub import stripe_sim as stripe_sim

# the shop's own strategy would put the gift card first: the refund follows Shopify's suggestion instead
CREDIT_FIRST = {"tender_strategy": tenders.CREDIT_FIRST}


@pytest.fixture
def faults_cleared(stripe_sim: StripeSimulator) -> Iterator[None]:  # noqa: F811 - the imported fixture
    """The Stripe simulator is shared by the module: a test's faults end with it."""
    yield
    stripe_sim.faults.clear()


def parts(w: World) -> tuple[Any, list[Any]]:
    """The refund the return opened, and its parts (oldest first)."""
    rows = w.hub.refunds()
    [parent] = [r for r in rows if r.parent_id is None and r.kind == "requested"]
    return parent, sorted((r for r in rows if r.parent_id == parent.id), key=lambda r: r.created_at)


def done(w: World) -> Callable[[], bool]:
    return lambda: any(r.state == states.WRITTEN_BACK and r.parent_id is None for r in w.hub.refunds())


def gift_card_and_stripe(w: World) -> tuple[Any, SimOrder, str]:
    """The issue's order: 100.00 of boots, 30.00 paid by gift card and 70.00 at an outside Stripe."""
    [shop] = w.shops
    intent = w.stripe.create_payment(7000, "USD")
    order = w.sim.add_order(shop, [("Boots", 10000)], tenders=[("gift_card", 3000), ("stripe", 7000, intent)])
    return shop, order, intent


def legs(w: World, order: SimOrder) -> list[tuple[str, int]]:
    """Each REFUND transaction Shopify made on the order: (gateway, amount)."""
    return [(tx.gateway, tx.amount) for tx in order.transactions if tx.kind == "REFUND"]


def test_gift_card_and_shopify_payments_are_refunded_as_shopify_suggests(make_world: Callable[..., World]) -> None:
    w = make_world(settings=CREDIT_FIRST)
    [shop] = w.shops
    order = w.sim.add_order(
        shop, [("Jacket", 4000), ("Socks", 1000)], tenders=[("gift_card", 3000), ("shopify_payments", 2000)]
    )
    jacket = order.lines[0]
    w.sim.request_return(order, {jacket.id: 1}, reason="SIZE_TOO_SMALL")
    w.settle(until=done(w))

    parent, (gift, card) = parts(w)
    assert (parent.state, parent.approved_amount, parent.route) == (states.WRITTEN_BACK, 4000, "tenders")
    # Shopify suggests the payment first, then the gift card: 20.00 + 20.00, not the shop's gift card first
    assert [(p.route, p.approved_amount, p.state) for p in (gift, card)] == [
        ("platform", 2000, states.WRITTEN_BACK),
        ("platform", 2000, states.WRITTEN_BACK),
    ]
    assert sorted(legs(w, order)) == [("gift_card", 2000), ("shopify_payments", 2000)]
    calls = w.sim.mutations("refundCreate", shop)
    assert sorted(str(c.key) for c in calls) == sorted((card.idempotency_key, gift.idempotency_key))
    # one part carries the returned line; each carries its own transaction on its own parent
    assert [[i["quantity"] for i in c.variables["refundLineItems"]] for c in calls] == [[1], []]
    assert [[t["gateway"] for t in c.variables["transactions"]] for c in calls] == [["gift_card"], ["shopify_payments"]]
    assert len(w.hub.refunds()) == 3  # the two refunds/create echoes opened nothing
    actions = [a.action for a in w.hub.audit(parent.id)]
    assert "split_across_tenders" in actions
    assert "written_back" in actions


def test_more_than_the_gift_card_holds_is_refunded_across_the_gift_card_and_stripe(
    make_world: Callable[..., World],
) -> None:
    """The issue's order: 30.00 by gift card, 70.00 through an outside Stripe account. 80.00 back
    is more than either tender holds but within the order."""
    w = make_world(settings=CREDIT_FIRST)
    [shop] = w.shops
    intent = w.stripe.create_payment(7000, "USD")
    order = w.sim.add_order(
        shop,
        [("Boots", 8000), ("Laces", 2000)],
        tenders=[("gift_card", 3000), ("stripe", 7000, intent)],
    )
    w.sim.request_return(order, {order.lines[0].id: 1}, reason="DEFECTIVE")
    w.settle(until=done(w))

    parent, found = parts(w)
    assert parent.state == states.WRITTEN_BACK
    by_route = {p.route: p for p in found}
    assert {r: p.approved_amount for r, p in by_route.items()} == {"gateway:stripe": 7000, "platform": 1000}
    [at_stripe] = w.stripe.ledger.refunds_of(intent)
    assert (at_stripe.amount, at_stripe.key) == (7000, by_route["gateway:stripe"].idempotency_key)
    assert legs(w, order) == [("gift_card", 1000)]  # Shopify moved the gift card's share only
    # the gift card's Shopify refund carries the line; the Stripe part is written back as a record
    [money, *_] = w.sim.mutations("refundCreate", shop)
    assert [i["quantity"] for i in money.variables["refundLineItems"]] == [1]
    metafield = w.sim.mutations("metafieldsSet", shop)
    assert any(parent.id in m.variables["metafields"][0]["key"] for m in metafield)  # one record for what the hub paid


@pytest.mark.usefixtures("faults_cleared")
def test_duplicate_deliveries_and_a_lost_stripe_answer_move_each_part_once(make_world: Callable[..., World]) -> None:
    w = make_world()
    shop, order, intent = gift_card_and_stripe(w)
    # Stripe refunds and every answer is lost, the SDK's own retries (same key) included
    w.stripe.faults.add("lost_response", method="POST", path=r"/refunds$", times=10)
    w.sim.request_return(order, reason="DEFECTIVE")
    [request] = w.sim.webhooks_for("returns/request", shop)
    assert w.post(request).status_code == 200  # the same delivery again, as Shopify retries it
    w.settle(until=done(w))
    for echo in w.sim.webhooks_for("refunds/create", shop):
        w.sim.redeliver(echo)
    w.sim.redeliver(request)
    w.settle()

    parent, found = parts(w)
    assert parent.state == states.WRITTEN_BACK and parent.approved_amount == 10000
    assert sorted((p.route, p.approved_amount, p.state) for p in found) == [
        ("gateway:stripe", 7000, states.WRITTEN_BACK),
        ("platform", 3000, states.WRITTEN_BACK),
    ]
    assert [r.amount for r in w.stripe.ledger.refunds_of(intent)] == [7000]  # once, though its answer was lost
    assert legs(w, order) == [("gift_card", 3000)]
    assert len(w.sim.mutations("refundCreate", shop)) <= 2  # the gift card's refund, and at most one record
    stripe_part = next(p for p in found if p.route == "gateway:stripe")
    outcomes = [a.detail.get("outcome") for a in w.hub.audit(stripe_part.id) if a.action == "executor_result"]
    assert outcomes[0] == "unknown" and "succeeded" in outcomes  # in doubt, then found out by asking Stripe
    assert len([r for r in w.hub.refunds() if r.parent_id is None]) == 1


@pytest.mark.usefixtures("faults_cleared")
def test_a_partly_failed_refund_is_visible_and_a_retry_moves_only_the_failed_part(
    make_world: Callable[..., World],
) -> None:
    w = make_world()
    shop, order, intent = gift_card_and_stripe(w)
    w.stripe.faults.add("error", status=400, method="POST", path=r"/refunds$", times=10)  # Stripe refuses
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: any(r.needs_person for r in w.hub.refunds()))

    parent, found = parts(w)
    assert parent.state == states.EXECUTING and parent.needs_person  # partly failed: a person's to settle
    assert sorted((p.route, p.state) for p in found) == [
        ("gateway:stripe", states.FAILED),
        ("platform", states.WRITTEN_BACK),
    ]
    seen = settle_parts.parts_summary(w.hub.hub, parent.id)
    assert seen["partly_failed"] and seen["moved"] == 3000
    assert "partly_failed" in [a.action for a in w.hub.audit(parent.id)]

    w.stripe.faults.clear()
    [retry] = settle_parts.retry_failed_parts(w.hub.hub, parent.id, "admin:test")
    w.settle(until=done(w))
    parent, found = parts(w)
    assert (parent.state, parent.needs_person) == (states.WRITTEN_BACK, False)
    assert [r.amount for r in w.stripe.ledger.refunds_of(intent)] == [7000]  # the retry, once
    assert legs(w, order) == [("gift_card", 3000)]  # the gift card was not refunded again
    again = next(p for p in found if p.id == retry)
    failed = next(p for p in found if p.state == states.FAILED)
    assert again.state == states.WRITTEN_BACK and again.idempotency_key != failed.idempotency_key


def test_a_person_approving_a_held_refund_splits_it_across_the_tenders(make_world: Callable[..., World]) -> None:
    """The issue's complaint: held against the gift card alone, nothing could be refunded, not
    even by a person. A person's approval is split across the tenders like the policy's."""
    w = make_world(policy={"version": "t-review", "amounts": {"review_above": 10}})
    shop, order, intent = gift_card_and_stripe(w)
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: any(r.state == states.REVIEW for r in w.hub.refunds()))
    [held] = w.hub.refunds()
    assert held.state == states.REVIEW

    review_decision(w.hub.hub, held.id, True, "admin:ann")
    w.settle(until=done(w))
    parent, found = parts(w)
    assert (parent.state, parent.approved_amount) == (states.WRITTEN_BACK, 10000)
    assert sorted((p.route, p.approved_amount) for p in found) == [("gateway:stripe", 7000), ("platform", 3000)]
    assert [r.amount for r in w.stripe.ledger.refunds_of(intent)] == [7000]
    assert legs(w, order) == [("gift_card", 3000)]
