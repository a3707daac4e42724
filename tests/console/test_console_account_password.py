"""A person changes their own password: the current one is checked (and counted like a login),
the new one must be long enough and typed twice, every other session ends, this one stays."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import PASSWORD, Shop, client_of, csrf_of, login

NEW = "a much better passphrase"


def _change(client: Any, current: str, new: str, again: str | None = None) -> Any:
    token = csrf_of(client.get("/account/password").text)
    form = {"current": current, "new": new, "again": new if again is None else again, "csrf_token": token}
    return client.post("/account/password", data=form)


def test_a_person_makes_the_password_their_own(shop: Shop) -> None:
    email = shop.person("ana@example.com")
    here, elsewhere = client_of(shop, email), client_of(shop, email)
    answer = _change(here, PASSWORD, NEW)
    assert answer.status_code == 302
    assert here.get("/queue").status_code == 200  # this session stays signed in
    assert elsewhere.get("/queue").status_code == 302  # the other one is signed out
    fresh = shop.world.hub.app.test_client()
    assert login(fresh, email, PASSWORD).status_code == 401  # the old password no longer works
    assert login(fresh, email, NEW).status_code == 302


def test_what_the_form_refuses(shop: Shop) -> None:
    email = shop.person("ben@example.com")
    client = client_of(shop, email)
    for current, new, again, said in (
        ("not my password", NEW, None, "current password"),
        (PASSWORD, "short", None, "at least 12"),
        (PASSWORD, NEW, NEW + "!", "differ"),
        (PASSWORD, PASSWORD, None, "differ from the current"),
    ):
        answer = _change(client, current, new, again)
        assert answer.status_code == 400
        assert said in answer.text
    assert login(shop.world.hub.app.test_client(), email, PASSWORD).status_code == 302  # unchanged


def test_the_form_needs_its_csrf_token(shop: Shop) -> None:
    client = client_of(shop, shop.person("cy@example.com"))
    answer = client.post("/account/password", data={"current": PASSWORD, "new": NEW, "again": NEW})
    assert answer.status_code == 400
    assert login(shop.world.hub.app.test_client(), "cy@example.com", PASSWORD).status_code == 302
