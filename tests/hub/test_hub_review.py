"""The review queue's rules: two different approvers above the store's threshold, no checking
one's own approval or one's own change, and a reviewer's denial told to the customer."""

from __future__ import annotations

from typing import Any

import pytest

from hub.contracts import DecisionNotice, RecordResult
from hub.ledger import states
from hub.pipeline.review import review_decision
from tests.hub.conftest import STORE

PASSWORD = "correct horse battery"


def _in_review(world: Any, order_id: str) -> Any:
    world.order(order_id, 1000)
    world.platform.request_refund(order_id, 3500, request_id=f"rq-{order_id}")  # over the balance: review
    world.hub.settle(senders=[world.platform.sender])
    [refund] = [r for r in world.hub.refunds() if r.order_id == order_id]
    assert refund.state == states.REVIEW
    return refund


@pytest.fixture
def checked(world: Any) -> Any:
    """The store needs two approvers above 5.00; Ana and Ben approve, Cy supports."""
    hub = world.hub.hub
    store = hub.stores["sandbox"].get(STORE)
    assert store is not None
    settings = {**store.settings, "two_approvers_above": 500}
    hub.stores["sandbox"].save(STORE, settings=settings, credentials=store.credentials)
    tokens = {}
    for email, role in (("ana@example.com", "approver"), ("ben@example.com", "approver")):
        hub.accounts.add_user(email, email.split("@")[0], role, PASSWORD)
        hub.accounts.grant(email, "sandbox", STORE)
        tokens[email] = {"Authorization": "Bearer " + hub.accounts.issue_token(email, "t", [])}
    return world, tokens


def test_above_the_threshold_two_different_approvers_move_the_money(checked: Any) -> None:
    world, tokens = checked
    refund = _in_review(world, "6001")
    client = world.hub.client
    first = client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 800}, headers=tokens["ana@example.com"])
    assert first.json == {"id": refund.id, "state": states.REVIEW, "awaiting_checker": True}
    again = client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 800}, headers=tokens["ana@example.com"])
    assert again.status_code == 409  # refused as checker of her own approval
    assert "second, different approver" in again.json["message"]
    assert world.gateway_refunds() == []
    second = client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 800}, headers=tokens["ben@example.com"])
    assert second.json["state"] == states.APPROVED
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [moved] = world.gateway_refunds()
    assert moved.amount == 800


def test_a_checker_approving_another_amount_is_a_new_first_approval(checked: Any) -> None:
    world, tokens = checked
    refund = _in_review(world, "6002")
    client = world.hub.client
    client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 800}, headers=tokens["ana@example.com"])
    other = client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 900}, headers=tokens["ben@example.com"])
    assert other.json["awaiting_checker"] is True
    assert world.gateway_refunds() == []


def test_below_the_threshold_one_approver_is_enough(checked: Any) -> None:
    world, tokens = checked
    refund = _in_review(world, "6003")
    answer = world.hub.client.post(
        f"/api/refunds/{refund.id}/approve", json={"amount": 400}, headers=tokens["ana@example.com"]
    )
    assert answer.json["state"] == states.APPROVED


def test_whoever_last_changed_a_refund_cannot_check_it(checked: Any) -> None:
    world, _ = checked
    refund = _in_review(world, "6004")
    from hub.ledger import audit
    from hub.ledger.unit import write

    with write(world.hub.hub.engine) as conn:
        audit.write(conn, "user:ana@example.com", "amended", refund_id=refund.id, amount=800)
    with pytest.raises(ValueError, match="last changed"):
        review_decision(world.hub.hub, refund.id, True, "user:ana@example.com", amount=800)


def test_a_reviewers_denial_reaches_the_customer(world: Any) -> None:
    told: list[DecisionNotice] = []
    connector = world.hub.hub.connectors["sandbox"]

    class Telling(type(connector)):  # type: ignore[misc]
        def notify_decision(self, store: Any, notice: DecisionNotice) -> RecordResult:
            told.append(notice)
            return RecordResult(reference=f"note-{len(told)}")

    connector.__class__ = Telling
    refund = _in_review(world, "6005")
    answer = world.hub.client.post(
        f"/api/refunds/{refund.id}/deny",
        json={"note": "The item was returned worn."},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert answer.json["state"] == states.DENIED
    world.hub.settle(senders=[])
    [denial] = [n for n in told if n.step == "denied"]
    assert denial.decision == "deny"
    assert "The item was returned worn." in denial.explanation
    sent = [a for a in world.hub.audit(refund.id) if a.action == "customer_notified" and a.detail["step"] == "denied"]
    assert sent[0].detail["channel"] == "platform"
