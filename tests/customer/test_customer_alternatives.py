"""An offered store credit taken by the customer is issued on the platform once: duplicate
clicks find the first acceptance, a lost answer is found again under the credit's key, the
customer hears of it, and no money goes back to the card."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hub.ledger import credits, states
from hub.ledger.unit import read
from hub.pipeline import links
from tests.customer.conftest import Mailbox, text_of
from tests.customer.shops import OFFER, CustomerShop, magento_order, open_magento, open_woo, woo_order
from tests.customer.test_customer_pages import csrf, find


def asked_and_offered(shop: CustomerShop, order: dict[str, Any]) -> tuple[Any, Any, str]:
    """The customer asks for the Mug through the page; the policy offers store credit."""
    client = shop.hub.app.test_client()
    page_url = find(client, shop, str(order["id"]), "ana@example.com").headers["Location"]
    mug, tee = (item["id"] for item in order["line_items"])
    form = {"csrf_token": csrf(client.get(page_url).text), f"qty-{mug}": "1", f"qty-{tee}": "0", "reason": "other"}
    previewed = client.post(f"{page_url}/preview", data=form).text
    assert "Not refundable, but 12.00 USD as store credit is on offer" in previewed
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', previewed)
    assert nonce
    status_url = client.post(f"{page_url}/submit", data={**form, "nonce": nonce.group(1)}).headers["Location"]
    shop.settle()
    [refund] = shop.hub.refunds()
    assert refund.state == states.OFFERED
    return client, refund, status_url


def test_a_woocommerce_store_credit_is_one_coupon_despite_double_clicks_and_a_lost_answer(
    stack: ExitStack, tmp_path: Path, mailbox: Mailbox
) -> None:
    shop = open_woo(stack, tmp_path, OFFER, store_credit_bonus_percent=10)
    shop.hub.config.email = mailbox.settings()
    order = woo_order(shop)
    # the order is old: outside the window, so store credit is offered instead
    shop.platform.shop.orders[order["id"]]["date_created_gmt"] = "2020-01-01T00:00:00"
    shop.platform.shop.orders[order["id"]]["date_paid_gmt"] = "2020-01-01T00:00:00"
    client, refund, status_url = asked_and_offered(shop, order)
    page = client.get(status_url).text
    assert "Accept 13.20 USD as store credit" in page  # 12.00 and the store's 10 % bonus

    book = shop.platform.coupons
    book.lose_next = 1  # WooCommerce makes the coupon, the answer never arrives
    token = csrf(page)
    clicks = [client.post(f"{status_url}/accept", data={"csrf_token": token}) for _ in range(3)]
    assert {c.status_code for c in clicks} == {303}
    shop.settle(timeout=30)

    [coupon] = book.coupons.values()
    assert book.creates == 1  # the retry looked the code up and found it
    assert coupon["amount"] == "13.20"
    assert coupon["email_restrictions"] == ["ana@example.com"]
    assert (coupon["usage_limit"], coupon["discount_type"]) == (1, "fixed_cart")
    with read(shop.hub.hub.engine) as conn:
        credit = credits.of_refund(conn, refund.id)
    assert credit is not None
    assert (credit.state, credit.amount, credit.bonus, credit.code) == (credits.ISSUED, 1320, 120, coupon["code"])
    actions = [a.action for a in shop.hub.audit(refund.id)]
    assert actions.count("alternative_accepted") == 1
    assert actions.count("credit_issued") == 1
    assert "credit_unknown" in actions  # the lost answer, recorded before it was found
    assert shop.stripe.ledger.refunds == {}  # no money back to the card
    assert shop.hub.refunds()[0].state == states.OFFERED

    [credited] = [m for m in mailbox.messages if "ready" in str(m["Subject"])]
    assert coupon["code"] in text_of(credited)
    assert coupon["code"] in client.get(status_url).text
    # a person can no longer refund the card for it
    answer = shop.hub.client.post(
        f"/api/refunds/{refund.id}/approve", json={}, headers={"Authorization": "Bearer test-admin-token"}
    )
    assert answer.status_code in (409, 422)


def test_an_alternative_can_only_be_taken_while_it_is_on_offer(stack: ExitStack, tmp_path: Path) -> None:
    from tests.customer.shops import APPROVE

    shop = open_woo(stack, tmp_path, APPROVE)
    order = woo_order(shop)
    client = shop.hub.app.test_client()
    page_url = find(client, shop, str(order["id"]), "ana@example.com").headers["Location"]
    mug, tee = (item["id"] for item in order["line_items"])
    form = {"csrf_token": csrf(client.get(page_url).text), f"qty-{mug}": "1", f"qty-{tee}": "0", "reason": "other"}
    previewed = client.post(f"{page_url}/preview", data=form).text
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', previewed)
    assert nonce
    status_url = client.post(f"{page_url}/submit", data={**form, "nonce": nonce.group(1)}).headers["Location"]
    shop.settle()
    token = csrf(client.get(shop.page).text)  # the session's token (a refunded status page has no form)
    taken = client.post(f"{status_url}/accept", data={"csrf_token": token})
    assert taken.status_code == 409
    [refund] = shop.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    wrong_purpose = links.sign(shop.hub.hub, "feedback", "woocommerce", shop.store_id, refund.id)
    assert client.post(f"/customer/status/{wrong_purpose}/accept", data={"csrf_token": token}).status_code == 404


def test_a_magento_store_credit_is_one_cart_rule_and_coupon_despite_double_clicks_and_a_lost_answer(
    stack: ExitStack, tmp_path: Path
) -> None:
    shop = open_magento(stack, tmp_path, OFFER)
    order = magento_order(shop)
    with shop.platform.state.lock:
        shop.platform.state.orders[order["entity_id"]]["created_at"] = "2020-01-01 00:00:00"
    client = shop.hub.app.test_client()
    page_url = find(client, shop, str(order["increment_id"]), "jo@example.com").headers["Location"]
    [item] = order["items"]
    form = {"csrf_token": csrf(client.get(page_url).text), f"qty-{item['item_id']}": "1", "reason": "other"}
    previewed = client.post(f"{page_url}/preview", data=form).text
    assert "as store credit is on offer" in previewed
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', previewed)
    assert nonce
    status_url = client.post(f"{page_url}/submit", data={**form, "nonce": nonce.group(1)}).headers["Location"]
    shop.settle()
    [refund] = shop.hub.refunds()
    assert refund.state == states.OFFERED

    shop.platform.faults.add("lost_response", method="POST", path=r"/coupons$")  # made, answer lost
    token = csrf(client.get(status_url).text)
    for _ in range(2):
        assert client.post(f"{status_url}/accept", data={"csrf_token": token}).status_code == 303
    shop.settle(timeout=30)

    [rule] = shop.platform.sales_rules.values()
    [coupon] = shop.platform.coupons.values()
    assert (rule["simple_action"], rule["discount_amount"], rule["uses_per_coupon"]) == ("cart_fixed", 25.0, 1)
    assert coupon["rule_id"] == rule["rule_id"]
    assert coupon["usage_limit"] == 1
    with read(shop.hub.hub.engine) as conn:
        credit = credits.of_refund(conn, refund.id)
    assert credit is not None
    assert (credit.state, credit.code) == (credits.ISSUED, coupon["code"])
    actions = [a.action for a in shop.hub.audit(refund.id)]
    assert actions.count("credit_issued") == 1
    assert "credit_unknown" in actions  # the lost answer; the retry found the coupon by its code
    assert shop.stripe.ledger.refunds == {}
