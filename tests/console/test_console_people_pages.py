"""People and API tokens from the console: owners add people to their stores (a one-time
password shown once), change roles and disable accounts, but only of people whose every store
they own; anyone makes and revokes their own tokens, shown once, within their role."""

from __future__ import annotations

import re
from typing import Any

from tests.console.conftest import OTHER_STORE, client_of, csrf_of, login
from tests.hub.conftest import STORE


def _post(client: Any, path: str, **data: Any) -> Any:
    token = csrf_of(client.get("/account/tokens").text)
    return client.post(path, data={"csrf_token": token, **data})


def test_an_owner_adds_a_person_who_signs_in_with_the_password_shown_once(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    olga = client_of(shop, "olga@example.com")
    added = _post(olga, "/people/add", email="Dan@Example.com", name="Dan", role="support", stores=f"sandbox/{STORE}")
    assert added.status_code == 201
    assert added.headers["Cache-Control"] == "no-store"
    [password] = re.findall(r'id="once-password" class="mono" readonly value="([^"]+)"', added.text)
    assert "dan@example.com is added as support" in added.text
    assert password not in olga.get("/people").text  # shown once
    dan = shop.world.hub.app.test_client()
    assert login(dan, "dan@example.com", password).status_code == 302
    assert dan.get("/queue").status_code == 200
    assert dan.get("/people").status_code == 403  # support manages no one
    audit = [
        (a.action, a.actor, a.detail.get("user_id")) for a in shop.world.hub.audit() if a.action.startswith("user_")
    ]
    assert audit == [
        ("user_added", "user:olga@example.com", shop.user_id("dan@example.com")),
        ("user_granted", "user:olga@example.com", shop.user_id("dan@example.com")),
    ]
    assert "dan@example.com" not in str([a.detail for a in shop.world.hub.audit()])


def test_adding_an_existing_person_grants_the_store_and_keeps_their_role(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    shop.person("ana@example.com", role="analyst", stores=())
    olga = client_of(shop, "olga@example.com")
    answer = _post(olga, "/people/add", email="ana@example.com", role="owner", stores=f"sandbox/{STORE}")
    assert answer.status_code == 302
    assert "their role stays analyst" in olga.get("/people").text
    principal = shop.hub.accounts.principal_of_user(shop.user_id("ana@example.com"))
    assert principal.role == "analyst"
    assert principal.stores.allows("sandbox", STORE)


def test_an_owner_cannot_grant_a_store_they_do_not_see(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    olga = client_of(shop, "olga@example.com")
    answer = _post(olga, "/people/add", email="eve@example.com", role="owner", stores=f"sandbox/{OTHER_STORE}")
    assert answer.status_code == 404
    assert "eve@example.com" not in olga.get("/people").text


def test_change_role_and_disable(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    shop.person("ana@example.com", role="approver")
    ana_id = shop.user_id("ana@example.com")
    olga = client_of(shop, "olga@example.com")
    ana = client_of(shop, "ana@example.com")
    token = _post(ana, "/account/tokens", name="script", scopes=["refunds:read"])
    [secret] = re.findall(r'id="new-token" class="mono" readonly value="([^"]+)"', token.text)
    assert shop.world.hub.client.get("/api/refunds", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    _post(olga, f"/people/{ana_id}/role", role="analyst")
    assert "ana@example.com is analyst now." in olga.get("/people").text
    assert shop.hub.accounts.principal_of_user(ana_id).role == "analyst"
    _post(olga, f"/people/{ana_id}/disable")
    assert "is disabled" in olga.get("/people").text
    assert ana.get("/queue").status_code == 302  # signed out
    assert shop.world.hub.client.get("/api/refunds", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert login(shop.world.hub.app.test_client(), "ana@example.com").status_code == 401
    _post(olga, f"/people/{ana_id}/enable")
    assert login(shop.world.hub.app.test_client(), "ana@example.com").status_code == 302
    actions = [a.action for a in shop.world.hub.audit() if a.action.startswith("user_")]
    assert actions == ["user_role_changed", "user_disabled", "user_enabled"]


def test_an_owner_changes_only_people_whose_every_store_they_own(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    shop.person("ben@example.com", role="approver", stores=(STORE, OTHER_STORE))
    shop.person("zed@example.com", role="analyst", stores=(OTHER_STORE,))
    ben_id, zed_id = shop.user_id("ben@example.com"), shop.user_id("zed@example.com")
    olga = client_of(shop, "olga@example.com")
    listed = olga.get("/people").text
    assert "ben@example.com" in listed
    assert "They also work on stores you cannot see" in listed
    assert "zed@example.com" not in listed  # another tenant's person
    assert OTHER_STORE not in listed
    _post(olga, f"/people/{ben_id}/role", role="owner")
    assert "They also work on stores you cannot see" in olga.get("/people").text
    assert shop.hub.accounts.principal_of_user(ben_id).role == "approver"
    assert _post(olga, f"/people/{zed_id}/disable").status_code == 404
    assert shop.hub.accounts.principal_of_user(zed_id) is not None
    olga_id = shop.user_id("olga@example.com")
    _post(olga, f"/people/{olga_id}/role", role="support")
    assert "This is you" in olga.get("/people").text
    assert shop.hub.accounts.principal_of_user(olga_id).role == "owner"


def test_tokens_are_shown_once_within_the_role_and_revoked(shop: Any) -> None:
    shop.person("ana@example.com", role="approver")
    ana = client_of(shop, "ana@example.com")
    beyond = _post(ana, "/account/tokens", name="too much", scopes=["users:manage"])
    assert beyond.status_code == 302
    assert "Your role cannot hand out users:manage" in ana.get("/account/tokens").text
    made = _post(ana, "/account/tokens", name="nightly export", scopes=["refunds:read", "stores:read"])
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    [secret] = re.findall(r'id="new-token" class="mono" readonly value="(rh_[^"]+)"', made.text)
    listed = ana.get("/account/tokens").text
    assert "nightly export" in listed
    assert secret not in listed
    api = shop.world.hub.client
    assert api.get("/api/refunds", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    [token_id] = re.findall(r"/account/tokens/(tk_[0-9a-f]+)/revoke", listed)
    other = client_of(shop, shop.person("ben@example.com"))
    assert _post(other, f"/account/tokens/{token_id}/revoke").status_code == 404  # not theirs
    _post(ana, f"/account/tokens/{token_id}/revoke")
    assert "Revoked" in ana.get("/account/tokens").text
    assert api.get("/api/refunds", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    trail = [(a.action, a.detail.get("issued_id")) for a in shop.world.hub.audit() if "api_token" in a.action]
    assert trail == [("api_token_created", token_id), ("api_token_revoked", token_id)]
    assert secret not in str([a.detail for a in shop.world.hub.audit()])


def test_the_people_of_one_store(shop: Any) -> None:
    shop.move_to_store(shop.request("8601", 1000, 1000).id, OTHER_STORE)  # a second store exists
    shop.person("olga@example.com", role="owner", stores=(STORE, OTHER_STORE))
    shop.person("ben@example.com", stores=(STORE,))
    shop.person("zed@example.com", stores=(OTHER_STORE,))
    olga = client_of(shop, "olga@example.com")
    both = olga.get("/people").text
    assert "ben@example.com" in both
    assert "zed@example.com" in both
    other = olga.get(f"/people?store=sandbox/{OTHER_STORE}").text
    assert '<div class="sub">zed@example.com</div>' in other
    assert "ben@example.com" not in other
    assert '<div class="sub">olga@example.com</div>' in other  # her row: she works on both
