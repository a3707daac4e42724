"""Shopify customers of an order paid at Stripe: Shopify itself sends its refund e-mail (the hub's
money-less refund record asks it to), and the hub's own e-mail tells every step; Shopify has no
channel for the other steps, which the audit says instead of claiming the customer was told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.ledger import states
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401
from tests.customer.conftest import Mailbox, mailbox, text_of  # noqa: F401 - fixture

BUYER = "customer@example.com"


def test_a_stripe_refund_notifies_the_customer_through_shopify_and_by_e_mail(
    make_world: Callable[..., World],  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
) -> None:
    w = make_world(settings={"store_name": "Lamp & Co"})
    w.hub.config.email = mailbox.settings()
    [shop] = w.shops
    intent = w.stripe.create_payment(4200, "USD")
    order = w.sim.add_order(shop, [("Lamp", 4200)], gateway="stripe", reference=intent)
    w.sim.request_return(order, reason="WRONG_ITEM")
    w.settle(until=lambda: len(mailbox.messages) >= 3)

    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    [record] = w.sim.mutations("refundCreate", shop)
    assert record.variables["transactions"] == []
    assert record.variables["notify"] is True  # Shopify e-mails the customer its refund notice

    received, approved, completed = mailbox.to(BUYER)
    assert "Lamp & Co" in text_of(received)
    assert "42.00 USD" in text_of(approved)
    assert "5–10 business days" in text_of(approved)
    assert "Refund sent" in text_of(completed)
    audit: list[Any] = w.hub.audit(refund.id)
    told = {(a.detail["step"], a.detail["channel"]) for a in audit if a.action == "customer_notified"}
    assert told == {("received", "email"), ("approved", "email"), ("completed", "email")}
    untold = {(a.detail["step"], a.detail["channel"]) for a in audit if a.action == "customer_not_notified"}
    assert untold == {("received", "platform"), ("approved", "platform"), ("completed", "platform")}
