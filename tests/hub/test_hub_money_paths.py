"""The money paths no other hub test walks to the end: a refund the bank declines ends ``failed``;
a gateway that is down (``unavailable``: surely not received) is retried later with the same key;
a person denies a refund in review; the policy offers an alternative instead of denying, and the
customer takes or refuses it. A whole hub with the sandbox platform and gateway (tests/hub/conftest.py).
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hub.contracts import Outcome, RefundResult
from hub.db.tables import jobs
from hub.ledger import payments, states
from hub.pipeline.settle import settle
from hub.policy import load_policy
from hub.work.runner import drain
from tests.hub.conftest import World, make_world

ADMIN = {"Authorization": "Bearer test-admin-token"}
OFFER_POLICY = {
    "version": "offer-1",
    "windows": {"default": {"days": 30, "start": "order"}},
    "alternatives": {"offer": "store_credit", "instead_of": ["window"]},
}


def refund_jobs(w: World, refund_id: str) -> list[Any]:
    with w.hub.hub.engine.begin() as conn:
        return list(conn.execute(select(jobs).where(jobs.c.subject_id == refund_id, jobs.c.kind == "refund")).all())


def run_due_now(w: World, refund_id: str) -> None:
    """Skip a retry's backoff: its job is due at once."""
    with w.hub.hub.engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.subject_id == refund_id, jobs.c.state == "ready")
            .values(run_after=datetime.now(UTC) - timedelta(seconds=1))
        )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body(response: Any) -> dict[str, Any]:
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def actions(w: World, refund_id: str) -> list[str]:
    return [a.action for a in w.hub.audit(refund_id)]


def executor_results(w: World, refund_id: str) -> list[dict[str, Any]]:
    return [a.detail for a in w.hub.audit(refund_id) if a.action == "executor_result"]


def test_a_refund_the_bank_declines_ends_failed_and_frees_the_balance(world: World) -> None:
    w = world
    w.order("5001", 3000)
    w.gateway.ledger.fail_next_refunds = 1
    w.platform.request_refund("5001", 3000, request_id="rq-declined")
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.FAILED
    assert refund.lease_until is None
    assert refund.executed_at is None
    [sent] = w.gateway_refunds()
    assert sent.status == "failed"
    assert sent.key == refund.idempotency_key
    assert w.platform.refunds["5001"] == []  # nothing is written back for money that did not move
    [result] = executor_results(w, refund.id)
    assert result["outcome"] == "failed"
    assert "written_back" not in actions(w, refund.id)
    with w.hub.hub.engine.begin() as conn:
        assert payments.committed(conn, refund.payment_id) == 0  # a failed refund holds no money

    w.platform.request_refund("5001", 3000, request_id="rq-again")  # so the whole amount can be asked again
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    again = next(r for r in w.hub.refunds() if r.source_ref == "rq-again")
    assert again.state == states.WRITTEN_BACK
    assert again.approved_amount == 3000


def test_a_gateway_that_is_down_is_retried_later_with_the_same_key(world: World, monkeypatch: Any) -> None:
    w = world
    adapter = w.hub.hub.gateways["sandbox"]
    down = copy.copy(adapter)  # the same adapter, pointed at a port nobody listens on
    down.settings = {**adapter.settings, "base_url": f"http://127.0.0.1:{closed_port()}"}
    monkeypatch.setattr(adapter, "refund", down.refund)  # refunds refused; payment lookups still answer
    w.order("5002", 2000)
    raw, headers = w.platform.request_refund("5002", 1500, request_id="rq-down", send=False)
    assert w.post(raw, headers).status_code == 200
    drain(w.hub.hub)  # delivery, decision, one attempt: connection refused
    [refund] = w.hub.refunds()
    assert refund.state == states.APPROVED  # back to approved: the money surely did not move
    assert refund.attempts == 1
    assert refund.lease_until is None
    assert refund.last_error
    assert w.gateway_refunds() == []
    [job] = [j for j in refund_jobs(w, refund.id) if j.state == "ready"]  # the retry, delayed
    first_wait = (job.run_after.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 0 < first_wait <= 1.0  # the first retry waits 2**0 s
    with w.hub.hub.engine.begin() as conn:
        assert payments.committed(conn, refund.payment_id) == 1500  # still reserved meanwhile

    run_due_now(w, refund.id)
    drain(w.hub.hub)  # still down: the second retry waits longer
    [refund] = w.hub.refunds()
    assert (refund.state, refund.attempts) == (states.APPROVED, 2)
    [job] = [j for j in refund_jobs(w, refund.id) if j.state == "ready"]
    second_wait = (job.run_after.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 1.0 < second_wait <= 2.0  # 2**1 s

    monkeypatch.undo()  # the gateway is back
    run_due_now(w, refund.id)
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert refund.attempts == 3
    [sent] = w.gateway_refunds()
    assert (sent.amount, sent.key) == (1500, refund.idempotency_key)
    outcomes = [r["outcome"] for r in executor_results(w, refund.id)]
    assert outcomes == ["unavailable", "unavailable", "succeeded"]
    assert actions(w, refund.id).count("executing") == 3


def test_an_unavailable_answer_for_a_refund_someone_else_settled_changes_nothing(world: World) -> None:
    w = world
    w.order("5003", 1000)
    w.platform.request_refund("5003", 1000, request_id="rq-late")
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    late = settle(
        w.hub.hub,
        refund.id,
        RefundResult(outcome=Outcome.UNAVAILABLE, message="late"),
        expect=states.EXECUTING,
        actor="test",
    )
    assert (late.state, late.applied, late.refund) == (states.APPROVED, False, None)
    assert w.hub.refunds()[0].state == states.WRITTEN_BACK
    assert [j.state for j in refund_jobs(w, refund.id)] == ["done"]  # no retry was queued


def test_a_person_denies_a_refund_in_review(world: World) -> None:
    w = world
    w.order("5004", 1000)
    w.platform.request_refund("5004", 2500, request_id="rq-review")  # more than captured: a person decides
    w.hub.settle(senders=[w.platform.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.REVIEW
    url = f"/api/refunds/{refund.id}"
    assert w.hub.client.post(f"{url}/deny", json={}).status_code == 401
    assert w.hub.client.post(f"{url}/deny", json={"amount": 100}, headers=ADMIN).status_code == 400
    denied = w.hub.client.post(f"{url}/deny", json={"by": "ana", "note": "too much"}, headers=ADMIN)
    assert denied.status_code == 200
    assert (body(denied)["id"], body(denied)["state"]) == (refund.id, states.DENIED)
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.DENIED
    assert refund.approved_amount is None
    assert w.gateway_refunds() == []
    assert w.platform.refunds["5004"] == []
    [reviewed] = [a for a in w.hub.audit(refund.id) if a.action == "reviewed"]
    assert (reviewed.actor, reviewed.detail["state"], reviewed.detail["note"]) == ("admin:ana", "denied", "too much")
    # a denial is final: neither a second denial nor an approval moves it
    assert w.hub.client.post(f"{url}/deny", json={}, headers=ADMIN).status_code == 409
    again = w.hub.client.post(f"{url}/approve", json={"amount": 500}, headers=ADMIN)
    assert again.status_code == 409
    assert "not in review" in body(again)["message"]
    shown = body(w.hub.client.get(url, headers=ADMIN))
    assert shown["state"] == states.DENIED


@pytest.fixture
def offer_world(tmp_path: Any) -> Iterator[World]:
    """The conftest's world, its store under a policy that offers store credit instead of a
    window denial (30 days from the order)."""
    for w in make_world(tmp_path):
        w.hub.hub.policies["default"] = load_policy(OFFER_POLICY)
        yield w


def old_order(w: World, order_id: str, amount: int, days: int = 60) -> None:
    w.order(order_id, amount)
    long_ago = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    w.platform.orders[order_id]["created_at"] = w.platform.orders[order_id]["paid_at"] = long_ago


def offered(w: World, order_id: str, amount: int) -> Any:
    old_order(w, order_id, amount)
    w.platform.request_refund(order_id, amount, request_id=f"rq-{order_id}", reason="changed_mind")
    w.hub.settle(senders=[w.platform.sender])
    [refund] = [r for r in w.hub.refunds() if r.order_id == order_id]
    return refund


def test_outside_the_window_the_policy_offers_store_credit_and_tells_the_customer(offer_world: World) -> None:
    w = offer_world
    refund = offered(w, "5005", 2000)
    assert refund.state == states.OFFERED
    decision = refund.decision["decision"]
    assert (decision["action"], decision["alternative"]) == ("offer_alternative", "store_credit")
    assert w.gateway_refunds() == []
    assert refund.approved_amount is None
    told = [a.detail for a in w.hub.audit(refund.id) if a.action in ("customer_notified", "customer_not_notified")]
    assert told  # the notify job ran (the sandbox platform has no channel to the customer)
    with w.hub.hub.engine.begin() as conn:
        assert payments.committed(conn, refund.payment_id) == 0  # an offer holds no money


def test_the_customer_refuses_the_alternative(offer_world: World) -> None:
    w = offer_world
    refund = offered(w, "5006", 2000)
    answer = w.hub.client.post(f"/api/refunds/{refund.id}/deny", json={"note": "refused"}, headers=ADMIN)
    assert body(answer)["state"] == states.DENIED
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    assert w.hub.refunds()[0].state == states.DENIED
    assert w.gateway_refunds() == []


def test_the_alternative_taken_is_approved_and_paid_within_the_balance(offer_world: World) -> None:
    w = offer_world
    refund = offered(w, "5007", 2000)
    url = f"/api/refunds/{refund.id}/approve"
    too_much = w.hub.client.post(url, json={"amount": 2001}, headers=ADMIN)
    assert too_much.status_code == 409
    assert w.hub.refunds()[0].state == states.OFFERED
    ok = w.hub.client.post(url, json={"amount": 1200, "by": "ana"}, headers=ADMIN)
    assert body(ok)["state"] == states.APPROVED
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert refund.approved_amount == 1200
    [sent] = w.gateway_refunds()
    assert (sent.amount, sent.key) == (1200, refund.idempotency_key)
    [record] = w.platform.refunds["5007"]
    assert record["amount"] == 1200
