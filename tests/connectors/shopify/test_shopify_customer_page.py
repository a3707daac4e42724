"""The customer request page on Shopify: the order found by the name the customer sees (``#1001``)
and the e-mail on it, one line of two asked for, refunded at Stripe and written back."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from hub.ledger import states
from tests.connectors.shopify.test_shopify_through_hub import World, make_world, stripe_sim  # noqa: F401
from tests.customer.test_customer_pages import csrf


def test_a_shopify_customer_asks_for_one_line_by_the_orders_name(make_world: Callable[..., World]) -> None:  # noqa: F811
    w = make_world()
    [shop] = w.shops
    intent = w.stripe.create_payment(5000, "USD")
    order = w.sim.add_order(shop, [("Lamp", 3000), ("Shade", 2000)], gateway="stripe", reference=intent)
    client = w.hub.app.test_client()
    page = f"/customer/shopify/request?store={quote(shop.domain, safe='')}"

    wrong = client.post(page, data={"number": order.name, "email": "x@y.z", "csrf_token": csrf(client.get(page).text)})
    assert "could not find an order" in wrong.text
    found = client.post(
        page, data={"number": order.name, "email": "customer@example.com", "csrf_token": csrf(client.get(page).text)}
    )
    assert found.status_code == 303
    order_page = client.get(found.headers["Location"]).text
    shade = re.search(r'name="qty-(\d+)"[^>]*aria-label="How many of Shade"', order_page)
    lamp = re.search(r'name="qty-(\d+)"[^>]*aria-label="How many of Lamp"', order_page)
    assert shade
    assert lamp
    form = {
        "csrf_token": csrf(order_page),
        f"qty-{shade.group(1)}": "1",
        f"qty-{lamp.group(1)}": "0",
        "reason": "damaged",
    }
    previewed = client.post(f"{found.headers['Location']}/preview", data=form).text
    assert "Eligible: 20.00 USD back" in previewed
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', previewed)
    assert nonce
    client.post(f"{found.headers['Location']}/submit", data={**form, "nonce": nonce.group(1)})
    w.settle(until=lambda: any(r.state == states.WRITTEN_BACK for r in w.hub.refunds()))

    [refund] = w.hub.refunds()
    assert (refund.state, refund.approved_amount, refund.route) == (states.WRITTEN_BACK, 2000, "gateway:stripe")
    [at_stripe] = w.stripe.ledger.refunds_of(intent)
    assert at_stripe.amount == 2000
