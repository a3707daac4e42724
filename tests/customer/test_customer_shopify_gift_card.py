"""A Shopify store that sets ``store_credit_as = "gift_card"`` issues an accepted alternative as a
gift card (``giftCardCreate``), once: duplicate clicks find the first acceptance, and a lost
answer is followed by the same code again — ``TAKEN`` — and the card read back by its code.
A guest order (no customer account for store credit) gets its card too."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import update

from connectors.shopify.sim.gift_cards import gift_cards
from hub.db.tables import refunds
from hub.ledger import credits, states
from hub.ledger.unit import read, write
from hub.pipeline import links
from tests.connectors.shopify.conftest import shared_sim, sim  # noqa: F401 - fixtures
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401
from tests.customer.test_customer_pages import csrf

OFFER = {
    "version": "offer-gift-card",
    "windows": {"default": {"days": 30, "start": "order"}},
    "alternatives": {"offer": "store_credit", "instead_of": ["window"]},
}


def offered(w: World) -> tuple[Any, str]:
    """A return asked on a 60-day-old order: outside the window, store credit is offered."""
    [shop] = w.shops
    made = w.sim.add_order(shop, [("Lamp", 4000)], age_days=60)
    w.sim.request_return(made, reason="UNWANTED")
    w.settle()
    [refund] = w.hub.refunds()
    assert refund.state == states.OFFERED
    return refund, f"/customer/status/{links.sign(w.hub.hub, 'status', 'shopify', shop.domain, refund.id)}"


def test_a_gift_card_is_issued_once_despite_double_clicks_and_a_lost_answer(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = make_world(policy=OFFER, settings={"store_credit_as": "gift_card", "store_credit_bonus_percent": 10})
    [shop] = w.shops
    refund, status_url = offered(w)
    book = gift_cards(w.sim)
    book.lose_answers = 1  # Shopify makes the card; the answer never arrives
    client = w.hub.app.test_client()
    page = client.get(status_url).text
    for _ in range(2):
        assert client.post(f"{status_url}/accept", data={"csrf_token": csrf(page)}).status_code == 303
    w.settle()

    [card] = book.of(shop.domain)
    assert book.creates == 1
    assert card["initialValue"] == {"amount": "44.00", "currencyCode": "USD"}
    first, again = w.sim.mutations("giftCardCreate", shop)  # the retry sent the same code: TAKEN
    assert first.variables["code"] == again.variables["code"]
    assert re.fullmatch(r"[a-z0-9]{16}", first.variables["code"])
    assert refund.id in str(card["note"])
    with read(w.hub.hub.engine) as conn:
        credit = credits.of_refund(conn, refund.id)
    assert credit is not None
    assert (credit.state, credit.reference, credit.code) == (credits.ISSUED, card["id"], first.variables["code"])
    assert credit.kind == "gift_card"  # what was issued, not what was offered
    audit = w.hub.audit(refund.id)
    assert [a.detail["kind"] for a in audit if a.action == "credit_issued"] == ["gift_card"]
    assert "credit_unknown" in [a.action for a in audit]
    assert w.sim.mutations("storeCreditAccountCredit", shop) == []  # not store credit as well
    status = client.get(status_url).text
    assert f'Your gift card <strong class="mono">{first.variables["code"]}</strong>' in status  # shown, named right


def test_a_guest_order_gets_a_gift_card_where_store_credit_could_not_be_given(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = make_world(policy=OFFER, settings={"store_credit_as": "gift_card"})
    [shop] = w.shops
    refund, status_url = offered(w)
    with write(w.hub.hub.engine) as conn:  # as a guest checkout leaves it: no customer account on the order
        request = {**refund.request, "customer": {**refund.request["customer"], "id": None}}
        conn.execute(update(refunds).where(refunds.c.id == refund.id).values(customer_id=None, request=request))
    client = w.hub.app.test_client()
    assert (
        client.post(f"{status_url}/accept", data={"csrf_token": csrf(client.get(status_url).text)}).status_code == 303
    )
    w.settle()
    [card] = gift_cards(w.sim).of(shop.domain)
    assert card["customer"] is None
    with read(w.hub.hub.engine) as conn:
        credit = credits.of_refund(conn, refund.id)
    assert credit is not None
    assert credit.state == credits.ISSUED
