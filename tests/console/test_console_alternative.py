"""A reviewer takes the alternative on offer for the customer from the console's refund page and
from the admin API: the same call as the customer's accept button (issued on the platform once,
however often it is asked), checked before anything moves, within the reviewer's stores."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hub.ledger import credits, states
from hub.ledger.unit import read
from tests.console.conftest import PASSWORD, csrf_of, login
from tests.customer.conftest import stack  # noqa: F401 - fixture
from tests.customer.shops import OFFER, CustomerShop, open_woo, woo_order
from tests.customer.test_customer_alternatives import asked_and_offered

REVIEWER, SUPPORT, ELSEWHERE = "rita@shop.example", "sam@shop.example", "olga@other.example"


def offered(stack: ExitStack, tmp_path: Path) -> tuple[CustomerShop, Any]:  # noqa: F811
    """A WooCommerce refund the policy answered with 12.00 USD store credit (+10 % bonus), and
    three people: a reviewer of the store, a support person of it, a reviewer of another store."""
    shop = open_woo(stack, tmp_path, OFFER, store_credit_bonus_percent=10)
    order = woo_order(shop)
    for key in ("date_created_gmt", "date_paid_gmt"):  # an old order: outside the window
        shop.platform.shop.orders[order["id"]][key] = "2020-01-01T00:00:00"
    _, refund, _ = asked_and_offered(shop, order)
    accounts = shop.hub.hub.accounts
    for email, role, store in (
        (REVIEWER, "approver", shop.store_id),
        (SUPPORT, "support", shop.store_id),
        (ELSEWHERE, "approver", "other-store.example"),
    ):
        accounts.add_user(email, email.split("@")[0].capitalize(), role, PASSWORD)
        accounts.grant(email, "woocommerce", store)
    return shop, refund


def signed_in(shop: CustomerShop, email: str) -> Any:
    """A test client of its own signed in as ``email`` through the login form."""
    client = shop.hub.app.test_client()
    assert login(client, email).status_code == 302
    return client


def json_of(answer: Any) -> dict[str, Any]:
    body = answer.get_json()
    assert isinstance(body, dict), answer.get_data(as_text=True)
    return body


def credit_of(shop: CustomerShop, refund_id: str) -> credits.Credit | None:
    with read(shop.hub.hub.engine) as conn:
        return credits.of_refund(conn, refund_id)


def test_a_reviewer_takes_the_offered_store_credit_on_the_refund_page_once(stack: ExitStack, tmp_path: Path) -> None:  # noqa: F811
    shop, refund = offered(stack, tmp_path)
    client = signed_in(shop, REVIEWER)
    page = client.get(f"/refunds/{refund.id}").text
    assert "Take the alternative" in page
    assert "Issue 13.20 USD store credit" in page  # 12.00 and the store's 10 % bonus
    assert "a bonus of 1.20 USD included" in page

    assert client.post(f"/refunds/{refund.id}/alternative").status_code == 400  # no CSRF token
    assert credit_of(shop, refund.id) is None
    token = csrf_of(page)
    clicks = [client.post(f"/refunds/{refund.id}/alternative", data={"csrf_token": token}) for _ in range(3)]
    assert {c.status_code for c in clicks} == {302}
    shop.settle(timeout=30)

    [coupon] = shop.platform.coupons.coupons.values()
    assert shop.platform.coupons.creates == 1
    assert (coupon["amount"], coupon["email_restrictions"]) == ("13.20", ["ana@example.com"])
    credit = credit_of(shop, refund.id)
    assert credit is not None
    assert (credit.state, credit.amount, credit.bonus, credit.accepted_by) == (
        credits.ISSUED,
        1320,
        120,
        f"user:{REVIEWER}",
    )
    assert shop.stripe.ledger.refunds == {}  # nothing back to the card
    assert shop.hub.refunds()[0].state == states.OFFERED
    accepted = [a for a in shop.hub.audit(refund.id) if a.action == "alternative_accepted"]
    assert [a.actor for a in accepted] == [f"user:{REVIEWER}"]

    after = client.get(f"/refunds/{refund.id}").text
    assert "Take the alternative" not in after
    assert 'id="approve-h"' not in after  # the card can no longer be refunded for it
    assert "Took the alternative" in after
    assert coupon["code"] in after


def test_only_a_reviewer_of_the_store_may_take_it(stack: ExitStack, tmp_path: Path) -> None:  # noqa: F811
    shop, refund = offered(stack, tmp_path)
    support = signed_in(shop, SUPPORT)
    page = support.get(f"/refunds/{refund.id}").text
    assert "Take the alternative" not in page
    answer = support.post(f"/refunds/{refund.id}/alternative", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 403

    stranger = signed_in(shop, ELSEWHERE)
    token = csrf_of(stranger.get("/refunds").text)
    assert stranger.get(f"/refunds/{refund.id}").status_code == 404
    assert stranger.post(f"/refunds/{refund.id}/alternative", data={"csrf_token": token}).status_code == 404
    assert credit_of(shop, refund.id) is None


def test_the_api_checks_the_whole_request_then_takes_it_once(stack: ExitStack, tmp_path: Path) -> None:  # noqa: F811
    shop, refund = offered(stack, tmp_path)
    accounts = shop.hub.hub.accounts
    mine = {"Authorization": "Bearer " + accounts.issue_token(REVIEWER, "t", [])}
    theirs = {"Authorization": "Bearer " + accounts.issue_token(ELSEWHERE, "t", [])}
    reader = {"Authorization": "Bearer " + accounts.issue_token(SUPPORT, "t", [])}
    api, url = shop.hub.client, f"/api/refunds/{refund.id}/alternative"

    refused = {
        "extra field": (api.post(url, json={"amount": 5}, headers=mine), 400, "amount"),
        "not JSON": (api.post(url, data="{", headers=mine), 400, "JSON"),
        "unknown kind": (api.post(url, json={"kind": "cash"}, headers=mine), 400, "kind"),
        "by from a person": (api.post(url, json={"by": "x"}, headers=mine), 400, "by"),
        "another store": (api.post(url, json={}, headers=theirs), 404, refund.id),
        "no review scope": (api.post(url, json={}, headers=reader), 403, ""),
        "no refund": (api.post("/api/refunds/rf_nothing/alternative", json={}, headers=mine), 404, "rf_nothing"),
    }
    for why, (answer, status, named) in refused.items():
        assert answer.status_code == status, why
        assert answer.is_json, why
        assert named in answer.get_data(as_text=True), why
    assert credit_of(shop, refund.id) is None  # nothing moved for any of them

    first = api.post(url, json={"kind": "store_credit"}, headers=mine)
    assert first.status_code == 200, first.text
    body = json_of(first)
    assert body["id"] == refund.id
    assert {k: body["credit"][k] for k in ("kind", "amount", "bonus", "currency")} == {
        "kind": "store_credit",
        "amount": 1320,
        "bonus": 120,
        "currency": "USD",
    }
    again = api.post(url, data="", headers={**mine, "Content-Type": "application/json"})
    assert again.status_code == 200
    assert json_of(again)["credit"]["id"] == body["credit"]["id"]
    shop.settle(timeout=30)
    assert shop.platform.coupons.creates == 1
    assert "/api/refunds/{refund_id}/alternative" in json_of(api.get("/api/openapi.json"))["paths"]


def test_the_api_refuses_a_refund_with_nothing_on_offer(stack: ExitStack, tmp_path: Path) -> None:  # noqa: F811
    from tests.customer.shops import APPROVE

    shop = open_woo(stack, tmp_path, APPROVE)
    shop.hub.hub.accounts.add_user(REVIEWER, "Rita", "approver", PASSWORD)
    shop.hub.hub.accounts.grant(REVIEWER, "woocommerce", shop.store_id)
    token = {"Authorization": "Bearer " + shop.hub.hub.accounts.issue_token(REVIEWER, "t", [])}
    refund = _approved_refund(shop, woo_order(shop))
    answer = shop.hub.client.post(f"/api/refunds/{refund.id}/alternative", json={}, headers=token)
    assert answer.status_code == 409
    assert json_of(answer)["error"] == "no_alternative"
    assert refund.id in json_of(answer)["message"]
    assert credit_of(shop, refund.id) is None


def _approved_refund(shop: CustomerShop, order: dict[str, Any]) -> Any:
    """The customer asks for the Mug through the page and the policy approves it."""
    import re

    from tests.customer.test_customer_pages import csrf, find

    client = shop.hub.app.test_client()
    page_url = find(client, shop, str(order["id"]), "ana@example.com").headers["Location"]
    mug, tee = (item["id"] for item in order["line_items"])
    form = {"csrf_token": csrf(client.get(page_url).text), f"qty-{mug}": "1", f"qty-{tee}": "0", "reason": "other"}
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', client.post(f"{page_url}/preview", data=form).text)
    assert nonce
    client.post(f"{page_url}/submit", data={**form, "nonce": nonce.group(1)})
    shop.settle()
    [refund] = shop.hub.refunds()
    assert refund.state != states.OFFERED
    return refund
