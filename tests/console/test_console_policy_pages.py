"""The policy pages over the Flask test client, with a whole hub: what is published is what the
pipeline decides with, simulation and shadow never act, two people publish where the store
requires it, every step is audited with its person, and tenancy and roles hold."""

from __future__ import annotations

import html
from typing import Any

from hub.ledger import policies, states
from hub.ledger.unit import read
from tests.console.conftest import OTHER_STORE, client_of, csrf_of
from tests.hub.conftest import STORE

BASE = f"/policies/sandbox/{STORE}"
STRICTER = 'version = "stricter"\n\n[amounts]\nreview_above = 5\n'  # 5.00: a 10.00 refund goes to a person


def _save(client: Any, text: str, do: str = "save", days: int = 30) -> Any:
    token = csrf_of(client.get(f"{BASE}/edit").text)
    return client.post(f"{BASE}/edit", data={"csrf_token": token, "text": text, "do": do, "days": str(days)})


def _post(client: Any, path: str, **data: str) -> Any:
    token = csrf_of(client.get(BASE).text)
    return client.post(path, data={"csrf_token": token, **data})


def _actions(shop: Any, prefix: str = "policy_") -> list[tuple[str, str]]:
    return [(a.action, a.actor) for a in shop.world.hub.audit() if a.action.startswith(prefix)]


def test_the_published_version_is_what_new_refunds_are_decided_with(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    before = shop.request("8001", 1000, 1000)
    assert before.state != states.REVIEW
    olga = client_of(shop, "olga@example.com")
    assert "review_above" not in olga.get(f"{BASE}/edit").text  # starts from the live (configured) policy
    saved = _save(olga, STRICTER)
    assert "The draft is valid" in saved.text
    published = _post(olga, f"{BASE}/publish", note="review everything above 5")
    assert published.status_code == 302
    page = olga.get(BASE).text
    assert "Published as version 2" in page
    assert "Refunds up to 5 in the order&#39;s currency" in page
    after = shop.request("8002", 1000, 1000)
    assert after.state == states.REVIEW
    assert after.policy_version == policies.policy_of_text(STRICTER).version
    assert shop.hub.policy_for("sandbox", STORE).version == after.policy_version  # for every step that decides
    with read(shop.hub.engine) as conn:
        history = policies.versions(conn, "sandbox", STORE)
    assert [(v.number, v.source) for v in history] == [(2, "console"), (1, "file")]
    assert history[1].label == before.policy_version  # version 1 is what decided before
    assert _actions(shop) == [
        ("policy_draft_saved", "user:olga@example.com"),
        ("policy_published", "user:olga@example.com"),
    ]


def test_an_invalid_draft_is_kept_shown_at_its_line_and_never_published(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    olga = client_of(shop, "olga@example.com")
    answer = _save(olga, 'version = "x"\n\n[windows.default]\ndays = -2\n', do="simulate")
    assert answer.status_code == 200
    assert "Line 4:" in answer.text
    assert "days in [windows.default] must be 0 or more" in answer.text
    assert 'data-error-line="4"' in answer.text
    assert "Simulated" not in answer.text
    assert "days = -2" in olga.get(f"{BASE}/edit").text  # the work is kept
    refused = _post(olga, f"{BASE}/publish")
    assert refused.status_code == 302
    assert "not valid yet" in olga.get(BASE).text
    with read(shop.hub.engine) as conn:
        assert policies.versions(conn, "sandbox", STORE) == []


def test_simulate_counts_outcomes_before_and_after_and_lists_the_changed_refunds(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    approved = [shop.request(f"81{n}", 1000, 1000) for n in range(2)]
    shop.in_review("8190")
    olga = client_of(shop, "olga@example.com")
    page = _save(olga, STRICTER, do="simulate", days=7).text
    assert "3 refunds decided since" in page
    assert "<strong>2</strong> would be decided differently" in page
    for refund in approved:
        assert f"Order {refund.order_id}" in page
    assert "Order 8190" not in page.split("Refunds whose outcome changes")[1]  # in review either way
    assert "-20.00 USD" in page  # money that would not go back automatically
    assert [r.state for r in shop.world.hub.refunds()] == [a.state for a in approved] + [states.REVIEW]
    [simulated] = [a for a in shop.world.hub.audit() if a.action == "policy_simulated"]
    assert (simulated.detail["total"], simulated.detail["changed"], simulated.detail["days"]) == (3, 2, 7)


def test_shadow_shows_disagreements_on_new_refunds_without_acting(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    olga = client_of(shop, "olga@example.com")
    shop.request("8200", 1000, 1000)  # before the shadow: not in it
    _save(olga, STRICTER)
    assert _post(olga, f"{BASE}/shadow-start").status_code == 302
    fresh = shop.request("8201", 1000, 1000)
    assert fresh.state != states.REVIEW  # the live policy decided and acted
    assert len(shop.world.gateway_refunds()) == 2
    page = olga.get(BASE).text
    assert "In shadow since" in page
    assert "1 refund decided since" in page
    assert "Order 8201" in page
    assert "Order 8200" not in page
    _post(olga, f"{BASE}/shadow-stop")
    assert "In shadow since" not in olga.get(BASE).text
    assert _actions(shop, "policy_shadow") == [
        ("policy_shadow_started", "user:olga@example.com"),
        ("policy_shadow_stopped", "user:olga@example.com"),
    ]


def _proposed(shop: Any, note: str = "") -> tuple[Any, Any]:
    """Two owners of a store that requires two people; Olga has proposed ``STRICTER``."""
    shop.two_approvers_above(500)
    shop.person("olga@example.com", role="owner")
    shop.person("pete@example.com", role="owner")
    olga, pete = client_of(shop, "olga@example.com"), client_of(shop, "pete@example.com")
    _save(olga, STRICTER)
    _post(olga, f"{BASE}/publish", note=note)
    return olga, pete


def test_two_people_publish_where_the_store_requires_two_approvers(shop: Any) -> None:
    olga, pete = _proposed(shop, note="tighter")
    page = olga.get(BASE).text
    assert "Waiting for a checker" in page
    assert "Your publish is proposed" in page
    _save(olga, 'version = "edited later"\n')  # the proposal is a snapshot
    _post(olga, f"{BASE}/check")
    assert "a second, different person must check" in olga.get(BASE).text
    with read(shop.hub.engine) as conn:
        assert policies.versions(conn, "sandbox", STORE) == []
    _post(pete, f"{BASE}/check")
    assert "Checked and published as version 2" in pete.get(BASE).text
    with read(shop.hub.engine) as conn:
        live = policies.live_version(conn, "sandbox", STORE)
    assert live is not None
    assert (live.body, live.published_by, live.checked_by, live.note) == (
        STRICTER,
        "user:olga@example.com",
        "user:pete@example.com",
        "tighter",
    )
    assert shop.request("8301", 1000, 1000).state == states.REVIEW
    assert _actions(shop, "policy_publish") == [
        ("policy_publish_requested", "user:olga@example.com"),
        ("policy_published", "user:pete@example.com"),
    ]
    [published] = [a for a in shop.world.hub.audit() if a.action == "policy_published"]
    assert published.detail["checked"] is True
    assert published.detail["maker_user_id"] == shop.user_id("olga@example.com")


def test_a_proposal_waits_alone_and_can_be_withdrawn(shop: Any) -> None:
    olga, pete = _proposed(shop)
    _post(olga, f"{BASE}/publish")  # one proposal at a time
    assert "A proposal already waits for its checker" in olga.get(BASE).text
    _post(pete, f"{BASE}/withdraw")
    page = pete.get(BASE).text
    assert "The proposal is withdrawn." in page
    assert "Waiting for a checker" not in page
    assert _actions(shop, "policy_publish") == [
        ("policy_publish_requested", "user:olga@example.com"),
        ("policy_publish_withdrawn", "user:pete@example.com"),
    ]


def test_versions_show_who_published_and_what_changed(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    olga = client_of(shop, "olga@example.com")
    _save(olga, STRICTER)
    _post(olga, f"{BASE}/publish")
    version = olga.get(f"{BASE}/versions/2").text
    assert "Published" in version
    assert "by olga@example.com" in version
    assert "What changed since version 1" in version
    assert "Refunds up to 5 in the order&#39;s currency" in version
    assert 'class="d-add">+ review_above = 5' in version
    first = olga.get(f"{BASE}/versions/1").text
    assert "taken from the configuration file" in first
    assert olga.get(f"{BASE}/versions/9").status_code == 404
    _post(olga, f"{BASE}/versions/1/restore")
    assert 'version = "test-1"' in html.unescape(olga.get(f"{BASE}/edit").text)


def test_roles_and_tenancy(shop: Any) -> None:
    shop.person("olga@example.com", role="owner")
    shop.person("ana@example.com", role="approver")
    shop.person("cy@example.com", role="support")
    shop.move_to_store(shop.request("8401", 1000, 1000).id, OTHER_STORE)  # a store Olga was not granted
    olga, ana, cy = (client_of(shop, e) for e in ("olga@example.com", "ana@example.com", "cy@example.com"))
    assert olga.get(f"/policies/sandbox/{OTHER_STORE}").status_code == 404
    assert olga.get(f"/policies/sandbox/{OTHER_STORE}/edit").status_code == 404
    assert OTHER_STORE not in olga.get("/policies").text
    assert ana.get(BASE).status_code == 200  # approvers read the policy
    assert ana.get(f"{BASE}/edit").status_code == 403
    token = csrf_of(ana.get(BASE).text)
    assert ana.post(f"{BASE}/publish", data={"csrf_token": token}).status_code == 403
    assert cy.get("/policies").status_code == 403
    assert "Policies" not in cy.get("/queue").text


def test_a_long_period_replays_the_newest_refunds_and_says_how_many_were_left_out(shop: Any, monkeypatch: Any) -> None:
    from hub.console import policy_simulation

    monkeypatch.setattr(policy_simulation, "MAX_RECORDS", 2)
    shop.person("olga@example.com", role="owner")
    for n in range(3):
        shop.request(f"85{n}", 1000, 1000)
    page = _save(client_of(shop, "olga@example.com"), STRICTER, do="simulate").text
    assert "Only the newest 2 were replayed: 1 older ones were left out" in page
    changed = page.split("Refunds whose outcome changes")[1]
    assert "Order 850" not in changed
    assert "Order 852" in changed
