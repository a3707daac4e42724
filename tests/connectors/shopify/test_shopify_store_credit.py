"""An offered store credit taken on a Shopify order is credited to the customer's account once:
duplicate clicks find the first acceptance, a lost answer is found again in the account's
transactions, Shopify e-mails the customer, no money goes back to the card."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from connectors.shopify.sim.credit import store_credit
from hub.ledger import credits, states
from hub.ledger.unit import read
from hub.pipeline import links
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401

OFFER = {
    "version": "offer-shopify",
    "windows": {"default": {"days": 30, "start": "order"}},
    "alternatives": {"offer": "store_credit", "instead_of": ["window"]},
}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_a_store_credit_is_credited_once_despite_double_clicks_and_a_lost_answer(
    make_world: Callable[..., World],  # noqa: F811
) -> None:
    w = make_world(policy=OFFER, settings={"store_credit_bonus_percent": 10})
    [shop] = w.shops
    intent = w.stripe.create_payment(4000, "USD")
    order = w.sim.add_order(shop, [("Lamp", 4000)], gateway="stripe", reference=intent, age_days=60)
    w.sim.request_return(order, reason="UNWANTED")
    w.settle()
    [refund] = w.hub.refunds()
    assert refund.state == states.OFFERED

    ledger = store_credit(w.sim)
    ledger.lose_answers = 1  # Shopify credits the account; the answer never arrives
    client = w.hub.app.test_client()
    status_url = f"/customer/status/{links.sign(w.hub.hub, 'status', 'shopify', shop.domain, refund.id)}"
    page = client.get(status_url).text
    assert "Accept 44.00 USD as store credit" in page
    for _ in range(2):
        assert client.post(f"{status_url}/accept", data={"csrf_token": _csrf(page)}).status_code == 303
    w.settle()

    [account] = ledger.of(shop.domain, f"gid://shopify/Customer/{order.customer_id}")
    assert ledger.credits == 1
    assert account.balance == Decimal("44.00")
    with read(w.hub.hub.engine) as conn:
        credit = credits.of_refund(conn, refund.id)
    assert credit is not None
    assert credit.state == credits.ISSUED
    assert credit.reference == account.transactions[0]["id"]
    actions = [a.action for a in w.hub.audit(refund.id)]
    assert "credit_unknown" in actions
    assert actions.count("credit_issued") == 1
    [mutation] = w.sim.mutations("storeCreditAccountCredit", shop)  # once: the retry found it instead
    assert mutation.variables["creditInput"] == {
        "creditAmount": {"amount": "44.00", "currencyCode": "USD"},
        "notify": True,
    }
    assert w.stripe.ledger.refunds_of(intent) == []
