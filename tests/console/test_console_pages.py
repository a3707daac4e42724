"""The console over the Flask test client: sessions, CSRF on the console's forms only (the JSON
API and connector endpoints stay exempt), tenancy, the read models' paging and the plain words."""

from __future__ import annotations

from typing import Any

import pytest

from hub.ledger import states
from tests.console.conftest import OTHER_STORE, PASSWORD, csrf_of, login
from tests.hub.conftest import STORE


def test_pages_need_a_session_and_send_tologin(shop: Any) -> None:
    client = shop.world.hub.client
    for path in ("/", "/queue", "/refunds", "/refunds/rf_x", "/deliveries", "/stores"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert "/login" in answer.headers["Location"] or path == "/"
    assert "/login?next=/queue" in client.get("/queue").headers["Location"]


def test_login_rotates_the_session_and_logout_ends_it(shop: Any) -> None:
    shop.person("ana@example.com")
    client = shop.world.hub.client
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    answer = login(client, "ana@example.com")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/queue")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["uid"].startswith("us_")
        assert sess["epoch"] == 0
    assert client.get("/queue").status_code == 200
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/queue").status_code == 302


def test_wrong_password_and_second_factor(shop: Any) -> None:
    import pyotp

    shop.person("ana@example.com")
    client = shop.world.hub.client
    wrong = login(client, "ana@example.com", "nope")
    assert wrong.status_code == 401
    assert "wrong e-mail or password" in wrong.text
    secret = pyotp.random_base32()
    shop.hub.accounts.set_totp("ana@example.com", secret)
    asked = login(client, "ana@example.com")
    assert asked.status_code == 401
    assert 'name="code"' in asked.text
    assert login(client, "ana@example.com", code=pyotp.TOTP(secret).now()).status_code == 302


def test_next_only_goes_to_this_site(shop: Any) -> None:
    shop.person("ana@example.com")
    client = shop.world.hub.client
    token = csrf_of(client.get("/login").text)
    cases = (("/stores", "/stores"), ("//evil.example/x", "/queue"), ("https://evil.example", "/queue"))
    for target, expected in cases:
        client.get("/")  # keep the cookie jar
        answer = client.post(
            f"/login?next={target}", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token}
        )
        assert answer.headers["Location"] == expected
        token = csrf_of(client.get("/login?next=/queue", follow_redirects=True).text)


def test_console_forms_need_the_csrf_token_but_the_api_does_not(shop: Any) -> None:
    shop.person("ana@example.com")
    refund = shop.in_review("6101")
    client = shop.world.hub.client
    login(client, "ana@example.com")
    refused = client.post(f"/refunds/{refund.id}/note", data={"body": "hi"})
    assert refused.status_code == 400
    assert "The form expired" in refused.text
    refused = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    api = client.post(
        f"/api/refunds/{refund.id}/deny", json={"note": "no"}, headers={"Authorization": "Bearer test-admin-token"}
    )
    assert api.status_code == 200
    assert api.json["state"] == states.DENIED


def test_another_tenants_refund_is_a_404_page_and_absent_from_lists(shop: Any) -> None:
    shop.person("ana@example.com")
    mine = shop.in_review("6201")
    theirs = shop.in_review("6202")
    shop.move_to_store(theirs.id, OTHER_STORE)
    client = shop.world.hub.client
    login(client, "ana@example.com")
    page = client.get(f"/refunds/{theirs.id}")
    assert page.status_code == 404
    assert "<html" in page.text
    assert "Not found" in page.text
    assert client.get(f"/refunds/{mine.id}").status_code == 200
    for path in ("/queue", "/refunds", f"/refunds?store={OTHER_STORE}"):
        text = client.get(path).text
        assert theirs.id not in text, path
    assert mine.id in client.get("/queue").text
    stores = client.get("/stores").text
    assert STORE in stores
    assert OTHER_STORE not in stores
    token = csrf_of(client.get("/queue").text)
    acted = client.post(f"/refunds/{theirs.id}/note", data={"body": "x", "csrf_token": token})
    assert acted.status_code == 404


def test_refund_list_pages_by_keyset_and_filters(shop: Any) -> None:
    from hub.console.pages import PAGE

    shop.person("ana@example.com")
    ids = []
    for n in range(3):
        ids.append(shop.in_review(f"63{n:02}", asked=2000 + n).id)
    client = shop.world.hub.client
    login(client, "ana@example.com")
    text = client.get("/refunds?currency=USD&min=20.01&max=20.02").text
    assert ids[0] not in text
    assert ids[1] in text
    assert ids[2] in text
    assert "choose a currency" in client.get("/refunds?min=1").text
    assert "not a date" in client.get("/refunds?from=yesterday").text
    assert ids[0] in client.get("/refunds?state=review&from=2020-01-01").text
    assert ids[0] not in client.get("/refunds?state=denied").text
    assert PAGE == 50


def test_read_models_page_by_created_at_and_id(shop: Any) -> None:
    from hub.ledger import views
    from hub.ledger.people import ALL_STORES
    from hub.ledger.unit import read

    made = [shop.in_review(f"64{n:02}").id for n in range(4)]
    with read(shop.hub.engine) as conn:
        first = views.refund_search(conn, ALL_STORES, limit=2)
        rest = views.refund_search(conn, ALL_STORES, limit=10, cursor=(first[-1].created_at, first[-1].id))
        queue = views.review_queue(conn, ALL_STORES, limit=3)
        tail = views.review_queue(conn, ALL_STORES, cursor=(queue[-1].refund.created_at, queue[-1].refund.id))
    assert [r.id for r in first + rest] == list(reversed(made))
    assert [q.refund.id for q in queue + tail] == made


def test_money_is_shown_with_the_currency_exponent() -> None:
    from hub.console.format import money, reasons

    assert money(123450, "USD") == "1,234.50 USD"
    assert money(500, "JPY") == "500 JPY"
    assert money(1250, "KWD") == "1.250 KWD"
    held = {"decision": {"rules": [{"rule": "big", "effect": "review", "detail": "over 100"}]}, "balance_problem": "x"}
    assert reasons(held) == [("big", "over 100"), ("Balance check", "x")]


def test_queue_and_refund_list_page_with_the_apis_cursor_and_refuse_one_they_never_gave(
    shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from hub.console import pages

    monkeypatch.setattr(pages, "PAGE", 2)  # three refunds: two pages
    shop.person("ana@example.com")
    ids = {shop.in_review(f"64{n:02}", asked=2000 + n).id for n in range(3)}
    client = shop.world.hub.client
    login(client, "ana@example.com")
    for path in ("/queue", "/refunds"):
        first = client.get(path).text
        [after] = re.findall(r"after=([A-Za-z0-9_-]+)", first)
        second = client.get(f"{path}?after={after}").text
        seen_first = {i for i in ids if i in first}
        seen_second = {i for i in ids if i in second}
        assert len(seen_first) == 2, path
        assert seen_first | seen_second == ids, path
        assert not seen_first & seen_second, path
        forged = client.get(f"{path}?after=2026-01-01T00:00:00~rf_x")
        assert forged.status_code == 400, path
        assert "<html" in forged.text, path
        assert "after is not a cursor this API gave out" in forged.text, path
