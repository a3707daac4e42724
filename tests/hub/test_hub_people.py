"""People, roles, per-store grants and API tokens: one tenant never sees or touches another's
refunds (404, as if they did not exist), scopes limit what a token may do, the audit trail
records the real actor, logins are throttled and may need a second factor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest

from hub.ledger import refunds as ledger
from hub.ledger import states
from hub.ledger.unit import write
from hub.models import Customer, OrderFacts, RefundRequest
from hub.people.accounts import LoginRefused
from tests.hub.conftest import STORE

PASSWORD = "correct horse battery"


def _request(store_id: str, ref: str) -> RefundRequest:
    return RefundRequest(
        connector="sandbox",
        store_id=store_id,
        source_ref=ref,
        order_id=f"o-{ref}",
        amount=500,
        currency="USD",
        customer=Customer(email="c@example.com"),
        order=OrderFacts(created_at=datetime(2026, 11, 1, tzinfo=UTC), currency="USD", total=500, captured=500),
        requested_at=datetime(2026, 11, 2, tzinfo=UTC),
        payments=(),
    )


def _refund_in(hub: Any, store_id: str, ref: str, state: str = states.REVIEW) -> str:
    with write(hub.engine) as conn:
        refund_id, _ = ledger.open_refund(conn, _request(store_id, ref), kind="requested", state=state)
    return refund_id


@pytest.fixture
def two_stores(world: Any) -> Any:
    hub = world.hub.hub
    hub.stores["sandbox"].save("store-b", settings={}, credentials={"token": "b"})
    accounts = hub.accounts
    accounts.add_user("ana@example.com", "Ana", "approver", PASSWORD)
    accounts.grant("ana@example.com", "sandbox", STORE)
    accounts.add_user("otto@example.com", "Otto", "analyst", PASSWORD)
    accounts.grant("otto@example.com", "sandbox", STORE)
    mine, theirs = _refund_in(hub, STORE, "a-1"), _refund_in(hub, "store-b", "b-1")
    ana = {"Authorization": "Bearer " + accounts.issue_token("ana@example.com", "ci", [])}
    otto = {"Authorization": "Bearer " + accounts.issue_token("otto@example.com", "bi", [])}
    return world, mine, theirs, ana, otto


def test_a_user_of_store_a_sees_only_store_a(two_stores: Any) -> None:
    world, mine, theirs, ana, _ = two_stores
    client = world.hub.client
    listed = [r["id"] for r in client.get("/api/refunds", headers=ana).json["refunds"]]
    assert listed == [mine]
    assert client.get(f"/api/refunds/{mine}", headers=ana).status_code == 200
    assert client.get(f"/api/refunds/{theirs}", headers=ana).status_code == 404
    denied = client.post(f"/api/refunds/{theirs}/deny", json={"note": "x"}, headers=ana)
    assert denied.status_code == 404
    assert [r.state for r in world.hub.refunds() if r.id == theirs] == [states.REVIEW]


def test_scopes_limit_what_a_token_may_do(two_stores: Any) -> None:
    world, mine, _, _, otto = two_stores
    client = world.hub.client
    assert client.get(f"/api/refunds/{mine}", headers=otto).status_code == 200  # analysts read
    answer = client.post(f"/api/refunds/{mine}/deny", json={}, headers=otto)
    assert (answer.status_code, answer.json["error"]) == (403, "forbidden")
    with pytest.raises(ValueError, match="cannot hold"):
        world.hub.hub.accounts.issue_token("otto@example.com", "sneaky", ["refunds:review"])


def test_the_audit_trail_records_the_real_actor(two_stores: Any) -> None:
    world, mine, _, ana, _ = two_stores
    client = world.hub.client
    assert client.post(f"/api/refunds/{mine}/deny", json={"note": "worn"}, headers=ana).json["state"] == states.DENIED
    [entry] = [a for a in world.hub.audit(mine) if a.action == "reviewed"]
    assert entry.actor == "user:ana@example.com"
    forged = client.post(f"/api/refunds/{mine}/deny", json={"by": "boss"}, headers=ana)
    assert forged.status_code == 400  # a person cannot sign as someone else


def test_a_revoked_grant_or_a_deactivated_user_loses_access(two_stores: Any) -> None:
    world, mine, _, ana, _ = two_stores
    accounts = world.hub.hub.accounts
    accounts.revoke("ana@example.com", "sandbox", STORE)
    assert world.hub.client.get(f"/api/refunds/{mine}", headers=ana).status_code == 404
    with write(world.hub.hub.engine) as conn:
        from hub.ledger import people

        user = people.user_by_email(conn, "ana@example.com")
        assert user is not None
        people.update_user(conn, user.id, active=False)
    assert world.hub.client.get("/api/refunds", headers=ana).status_code == 401


def test_logins_are_throttled(world: Any) -> None:
    accounts = world.hub.hub.accounts
    accounts.add_user("bo@example.com", "Bo", "support", PASSWORD)
    for _ in range(5):
        with pytest.raises(LoginRefused, match="wrong e-mail or password"):
            accounts.login("bo@example.com", "guess guess guess", None, "10.0.0.9")
    with pytest.raises(LoginRefused, match="too many attempts"):
        accounts.login("bo@example.com", PASSWORD, None, "10.0.0.9")
    with pytest.raises(LoginRefused, match="wrong e-mail or password"):
        accounts.login("nobody@example.com", PASSWORD, None, "10.0.0.8")  # no telling who exists


def test_a_second_factor_when_set(world: Any) -> None:
    accounts = world.hub.hub.accounts
    accounts.add_user("cy@example.com", "Cy", "owner", PASSWORD)
    secret = pyotp.random_base32()
    accounts.set_totp("cy@example.com", secret)
    with pytest.raises(LoginRefused) as asked:
        accounts.login("cy@example.com", PASSWORD, None, "10.0.0.7")
    assert asked.value.needs_code
    with pytest.raises(LoginRefused, match="wrong code"):
        accounts.login("cy@example.com", PASSWORD, "000000", "10.0.0.7")
    assert accounts.login("cy@example.com", PASSWORD, pyotp.TOTP(secret).now(), "10.0.0.7").email == "cy@example.com"


def test_passwords_are_argon2_and_long_enough(world: Any) -> None:
    accounts = world.hub.hub.accounts
    with pytest.raises(ValueError, match="at least 12"):
        accounts.add_user("dee@example.com", "Dee", "owner", "short")
    user = accounts.add_user("dee@example.com", "Dee", "owner", PASSWORD)
    assert user.password_hash.startswith("$argon2id$")


def test_the_first_owner_from_the_command_line(world: Any, tmp_path: Any) -> None:
    import json

    from click.testing import CliRunner

    from hub.cli.main import main

    config = tmp_path / "refund-hub.json"
    config.write_text(json.dumps(world.hub.config.model_dump(mode="json", exclude={"source"})))
    run = CliRunner(env={"REFUND_HUB_NEW_PASSWORD": PASSWORD}).invoke
    added = run(main, ["--config", str(config), "user", "add", "Owner@Example.com", "--all-stores"])
    assert added.exit_code == 0, added.output
    assert "owner" in added.output
    issued = run(main, ["--config", str(config), "user", "token", "owner@example.com"])
    assert issued.output.startswith("rh_")
    listed = run(main, ["--config", str(config), "user", "list"])
    assert "owner@example.com" in listed.output
    assert "every store" in listed.output
    token = {"Authorization": "Bearer " + issued.output.strip()}
    assert world.hub.client.get("/api/refunds", headers=token).status_code == 200
