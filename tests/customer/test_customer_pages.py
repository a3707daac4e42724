"""The customer request page over HTTP (Flask's test client): look-ups that cannot enumerate
orders, throttles, CSRF, signed links scoped to their store, a preview that writes nothing, and a
submit that goes through the normal intake once however often it is clicked."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hub.ledger import states
from hub.pipeline import links
from tests.customer.shops import APPROVE, CustomerShop, open_woo, woo_order

NOT_FOUND = "We could not find an order with that number and e-mail address."


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def find(client: Any, shop: CustomerShop, number: str, email: str) -> Any:
    token = csrf(client.get(shop.page).text)
    return client.post(shop.page, data={"number": number, "email": email, "csrf_token": token})


def woo(stack: ExitStack, tmp_path: Path, **settings: Any) -> CustomerShop:
    return open_woo(stack, tmp_path, APPROVE, **settings)


def test_a_wrong_number_and_a_wrong_e_mail_get_the_same_answer(stack: ExitStack, tmp_path: Path) -> None:
    shop = woo(stack, tmp_path)
    order = woo_order(shop)
    client = shop.hub.app.test_client()
    wrong_number = find(client, shop, str(order["id"] + 1000), "ana@example.com")
    wrong_email = find(client, shop, str(order["id"]), "someone@example.com")
    no_email = find(client, shop, str(order["id"]), "")
    for answer in (wrong_number, wrong_email, no_email):
        assert answer.status_code == 200
        assert NOT_FOUND in answer.text
        assert "Mug" not in answer.text
    strip = lambda html: re.sub(r'(csrf_token" value=")[^"]+|value="[^"]*"', "", html)  # noqa: E731
    assert strip(wrong_number.text) == strip(wrong_email.text)

    right = find(client, shop, str(order["id"]), " Ana@Example.com ")
    assert right.status_code == 303
    page = client.get(right.headers["Location"])
    assert "Mug" in page.text
    assert "Tee" in page.text


def test_look_ups_are_throttled_per_address_and_per_order(stack: ExitStack, tmp_path: Path) -> None:
    shop = woo(stack, tmp_path)
    shop.hub.config.customer.lookups_per_hour = 3
    order = woo_order(shop)
    client = shop.hub.app.test_client()
    answers = [find(client, shop, str(n), "ana@example.com").status_code for n in (90001, 90002, 90003, 90004)]
    assert answers == [200, 200, 200, 429]
    # even the right e-mail now waits: guessing cannot go on from this address
    assert find(client, shop, str(order["id"]), "ana@example.com").status_code == 429
    # another address guessing at the same order is held by the order's own limit
    other = shop.hub.app.test_client()
    codes = [
        other.post(
            shop.page,
            data={"number": str(order["id"]), "email": f"guess{n}@x.io", "csrf_token": csrf(other.get(shop.page).text)},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
        ).status_code
        for n in range(4)
    ]
    assert codes[-1] == 429


def test_forms_need_their_csrf_token(stack: ExitStack, tmp_path: Path) -> None:
    shop = woo(stack, tmp_path)
    order = woo_order(shop)
    answer = shop.hub.app.test_client().post(shop.page, data={"number": str(order["id"]), "email": "ana@example.com"})
    assert answer.status_code == 400
    assert "This form has expired" in answer.text  # a page for a person, not a JSON body
    assert "Mug" not in answer.text


def test_links_are_signed_and_scoped_to_their_store(stack: ExitStack, tmp_path: Path) -> None:
    shop = woo(stack, tmp_path)
    order = woo_order(shop)
    client = shop.hub.app.test_client()
    good = links.sign(shop.hub.hub, "order", "woocommerce", shop.store_id, str(order["id"]))
    assert "Mug" in client.get(f"/customer/order/{good}").text
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    elsewhere = links.sign(shop.hub.hub, "order", "woocommerce", "https://other.example", str(order["id"]))
    as_status = links.sign(shop.hub.hub, "status", "woocommerce", shop.store_id, str(order["id"]))
    for token in (forged, elsewhere, as_status):
        answer = client.get(f"/customer/order/{token}")
        assert answer.status_code == 404
        assert "Mug" not in answer.text
    assert client.get("/customer/woocommerce/request?store=nope").status_code == 404


def test_preview_writes_nothing_and_submit_opens_one_refund_however_often_it_is_clicked(
    stack: ExitStack, tmp_path: Path
) -> None:
    shop = woo(stack, tmp_path)
    order = woo_order(shop)
    client = shop.hub.app.test_client()
    page_url = find(client, shop, str(order["id"]), "ana@example.com").headers["Location"]
    page = client.get(page_url).text
    mug, tee = (item["id"] for item in order["line_items"])
    form = {"csrf_token": csrf(page), f"qty-{mug}": "0", f"qty-{tee}": "1", "reason": "size_or_fit"}
    previewed = client.post(f"{page_url}/preview", data=form)
    assert previewed.status_code == 200
    assert "Eligible: 9.00 USD back" in previewed.text
    assert shop.hub.refunds() == []  # a preview is only a preview

    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', previewed.text)
    assert nonce
    sent = {**form, "nonce": nonce.group(1)}
    first, second = client.post(f"{page_url}/submit", data=sent), client.post(f"{page_url}/submit", data=sent)
    assert first.status_code == second.status_code == 303
    [refund] = shop.hub.refunds()
    # both go to the same refund's status page (each link is signed at its own second)
    for answer in (first, second):
        token = answer.headers["Location"].rsplit("/", 1)[-1]
        assert links.open_link(shop.hub.hub, "status", token) == ("woocommerce", refund.store_id, refund.id)
    assert (refund.state, refund.amount, refund.source_ref) == (
        states.REQUESTED,
        900,
        f"customer:{order['id']}:{nonce.group(1)}",
    )
    assert [line["line_id"] for line in refund.request["lines"]] == [str(tee)]

    too_many = client.post(f"{page_url}/preview", data={**form, f"qty-{tee}": "3"})
    assert too_many.status_code == 422
    assert "at most 2" in too_many.text
