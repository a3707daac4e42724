"""A WooCommerce order paid partly with a gift card (WooCommerce Gift Cards' ``gift_cards`` on the
order) and partly through Stripe, through the whole hub (issue 19). WooCommerce suggests no split,
so the store's strategy decides; no REST call credits a gift card code back, so the store routes
``gift_card`` nowhere and the gift card takes no share: within the card's balance the refund goes
to the card alone, past it a person decides — the card is never asked for more than it took."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.ledger import states, tenders
from tests.connectors.woocommerce.test_woocommerce_through_hub import World, open_world
from tests.connectors.woocommerce.test_woocommerce_writeback_lines import paid_by_stripe

EXCLUDE_CLEARANCE = {"version": "t-clearance", "exclusions": {"skus": ["CLEAR-*"], "effect": "deny"}}


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """Opens a hub and the simulators around one policy; the store's strategy: the card first."""
    with ExitStack() as stack:

        def build(policy: dict[str, Any]) -> World:
            opened = contextmanager(open_world)(tmp_path, policy=policy, tender_strategy=tenders.CARD_FIRST)
            return stack.enter_context(opened)

        yield build


def gift_card_and_card(world: World) -> tuple[dict[str, Any], str]:
    """60.00 of lamp and 40.00 of clearance mugs: 30.00 by gift card 7, 70.00 at Stripe."""
    lamp = world.woo.add_product("Lamp", "60.00", sku="LAMP-1")
    mugs = world.woo.add_product("Mug", "20.00", sku="CLEAR-MUG")
    return paid_by_stripe(world, [(lamp, 1), (mugs, 2)], 7000, gift_cards=[(7, "30.00")])


def test_a_return_within_the_cards_balance_goes_to_the_card_and_lists_only_the_refunded_line(
    make: Callable[..., World],
) -> None:
    world = make(EXCLUDE_CLEARANCE)
    order, intent = gift_card_and_card(world)
    world.woo.request_refund(order["id"], "Changed my mind")
    world.settle(until=world.saw("echo_matched"))

    rows = world.hub.refunds()
    [parent] = [r for r in rows if r.parent_id is None and r.kind == "requested"]
    [part] = [r for r in rows if r.parent_id == parent.id]  # the gift card takes no share
    assert (parent.state, parent.approved_amount) == (states.WRITTEN_BACK, 6000)
    assert (part.route, part.approved_amount, part.state) == ("gateway:stripe", 6000, states.WRITTEN_BACK)
    assert [(r.amount, r.key) for r in world.stripe.ledger.refunds_of(intent)] == [(6000, part.idempotency_key)]
    [write] = world.refund_writes()  # one record, of the lamp only
    assert [(i["quantity"], i["refund_total"]) for i in write["body"]["line_items"]] == [(1, "60.00")]


def test_more_than_the_card_took_is_held_for_a_person_not_sent(make: Callable[..., World]) -> None:
    world = make({"version": "t-approve"})
    order, intent = gift_card_and_card(world)
    world.woo.request_refund(order["id"], "Changed my mind")
    world.settle(until=lambda: any(r.state == states.REVIEW for r in world.hub.refunds()))

    [refund] = world.hub.refunds()
    assert refund.state == states.REVIEW
    assert "balance_problem" in (refund.decision or {})
    assert "gift_card 0" in refund.decision["balance_problem"]  # the gift card can take nothing back
    assert world.stripe.ledger.refunds_of(intent) == []
