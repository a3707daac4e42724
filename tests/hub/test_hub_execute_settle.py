"""hub.pipeline.execute and hub.pipeline.settle, step by step on a whole hub (the sandbox world of
tests/hub/conftest.py): what an Execution carries, the executor call and its metrics, taking a
refund (claimed and durable BEFORE the call, invariant 1), and one settle path for every answer —
recorded once, retried later with a backoff, or left alone when another worker got there first."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hub.contracts import Execution, Outcome, RefundResult
from hub.db.tables import jobs, refunds
from hub.ledger import payments, states
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.models import Line, OrderFacts, Payment, ReasonCode, RefundRequest
from hub.pipeline import execute as executing
from hub.pipeline.settle import Settled, settle
from hub.runtime.metrics import GATEWAY_LATENCY, GATEWAY_OUTCOMES
from tests.hub.conftest import STORE, World

ROUTE = "gateway:sandbox"
LEASE = timedelta(seconds=300)


def approved(w: World, order_id: str, amount: int, captured: int, *, route: str = ROUTE) -> str:
    """An approved refund of ``amount`` on an order paid ``captured`` at the sandbox gateway."""
    reference = w.order(order_id, captured)
    now = datetime.now(UTC)
    request = RefundRequest(
        connector="sandbox",
        store_id=STORE,
        order_id=order_id,
        source_ref=f"rq-{order_id}",
        order=OrderFacts(created_at=now, currency="USD", total=captured, captured=captured),
        lines=(Line(line_id="l1", quantity=1, unit_price=captured),),
        shipping=250,
        amount=amount,
        currency="USD",
        reason=ReasonCode.DAMAGED,
        payments=(
            Payment(platform_label="sandbox", reference=reference, captured=captured, currency="USD", extra={"k": "v"}),
        ),
        requested_at=now,
    )
    with w.hub.hub.engine.begin() as conn:
        refund_id, _ = ledger.open_refund(conn, request, kind="requested", state=states.REQUESTED)
        payment_id = payments.upsert(conn, STORE, route, request.payments[0])
        ledger.set_payment(conn, refund_id, payment_id, route)
        payments.reserve(conn, refund_id, payment_id, amount, expect=states.REQUESTED)
    return refund_id


def row(w: World, refund_id: str) -> Refund:
    with w.hub.hub.engine.begin() as conn:
        found = ledger.get(conn, refund_id)
    assert found is not None
    return found


def force(w: World, refund_id: str, **values: Any) -> None:
    with w.hub.hub.engine.begin() as conn:
        conn.execute(update(refunds).where(refunds.c.id == refund_id).values(**values))


def audit_of(w: World, refund_id: str, action: str) -> list[Any]:
    return [a for a in w.hub.audit(refund_id) if a.action == action]


def ready_jobs(w: World, refund_id: str, kind: str = "refund") -> list[Any]:
    with w.hub.hub.engine.begin() as conn:
        query = select(jobs).where(jobs.c.subject_id == refund_id, jobs.c.kind == kind, jobs.c.state == "ready")
        return list(conn.execute(query).all())


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def wake(self) -> None:
        self.count += 1


@pytest.fixture
def wakes(world: World, monkeypatch: pytest.MonkeyPatch) -> Wakes:
    spy = Wakes()
    monkeypatch.setattr(world.hub.hub, "dispatcher", spy)
    return spy


# ── execution_for ───────────────────────────────────────────────────────────────────────────────


def test_an_execution_carries_the_refund_and_its_request(world: World) -> None:
    refund_id = approved(world, "6001", 1500, 5000)
    refund = row(world, refund_id)
    request = RefundRequest.model_validate(refund.request)
    execution = executing.execution_for(refund)
    assert execution == Execution(
        hub_refund_id=refund_id,
        idempotency_key=f"rh-{refund_id}",
        payment_reference="pay-6001",
        amount=1500,
        currency="USD",
        reason="damaged",
        order_id="6001",
        note=f"Refund Hub {refund_id}",
        payment_extra={"k": "v"},
        lines=request.lines,
        shipping=250,
        source_ref="rq-6001",
        full_refund=False,
    )
    assert executing.execution_for(refund, request) == execution


def test_a_refund_of_everything_captured_is_a_full_refund(world: World) -> None:
    refund = row(world, approved(world, "6002", 5000, 5000))
    assert executing.execution_for(refund).full_refund is True
    less = row(world, approved(world, "6003", 4999, 5000))
    assert executing.execution_for(less).full_refund is False


def test_a_refund_never_approved_cannot_be_executed(world: World) -> None:
    refund_id = approved(world, "6004", 100, 5000)
    force(world, refund_id, approved_amount=None)
    with pytest.raises(ValueError, match="has no approved amount"):
        executing.execution_for(row(world, refund_id))


# ── call_executor ───────────────────────────────────────────────────────────────────────────────


def sample(metric: Any, suffix: str, **labels: str) -> float:
    for family in metric.collect():
        for s in family.samples:
            if s.name == family.name + suffix and s.labels == labels:
                return float(s.value)
    return 0.0


def test_the_gateway_is_called_and_measured(world: World) -> None:
    refund = row(world, approved(world, "6005", 700, 5000))
    outcomes = sample(GATEWAY_OUTCOMES, "_total", executor="sandbox", outcome="succeeded")
    calls = sample(GATEWAY_LATENCY, "_count", executor="sandbox")
    seconds = sample(GATEWAY_LATENCY, "_sum", executor="sandbox")
    result = executing.call_executor(world.hub.hub, refund, executing.execution_for(refund))
    assert result.outcome is Outcome.SUCCEEDED
    assert [r.amount for r in world.gateway_refunds()] == [700]
    assert sample(GATEWAY_OUTCOMES, "_total", executor="sandbox", outcome="succeeded") == outcomes + 1
    assert sample(GATEWAY_LATENCY, "_count", executor="sandbox") == calls + 1
    assert 0 < sample(GATEWAY_LATENCY, "_sum", executor="sandbox") - seconds < 10


def test_route_none_moves_no_money(world: World) -> None:
    refund = row(world, approved(world, "6006", 700, 5000, route="none"))
    result = executing.call_executor(world.hub.hub, refund, executing.execution_for(refund))
    assert result == RefundResult(outcome=Outcome.SUCCEEDED, message="route 'none': money already moved")
    assert world.gateway_refunds() == []


def test_the_platform_route_is_measured_as_platform(world: World) -> None:
    refund = row(world, approved(world, "6007", 700, 5000, route="platform"))
    before = sample(GATEWAY_OUTCOMES, "_total", executor="platform", outcome="succeeded")
    result = executing.call_executor(world.hub.hub, refund, executing.execution_for(refund))
    assert result.outcome is Outcome.SUCCEEDED
    assert [m["amount"] for m in world.platform.money_moves] == [700]
    assert sample(GATEWAY_OUTCOMES, "_total", executor="platform", outcome="succeeded") == before + 1


def test_a_disabled_store_is_unavailable_for_the_platform_route(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    refund = row(world, approved(world, "6008", 700, 5000, route="platform"))
    monkeypatch.setattr(world.hub.hub.stores["sandbox"], "get", lambda store_id: None)
    result = executing.call_executor(world.hub.hub, refund, executing.execution_for(refund))
    assert result == RefundResult(outcome=Outcome.UNAVAILABLE, message="store is disabled")
    assert world.platform.money_moves == []


def test_an_adapter_that_raises_leaves_the_refund_unknown(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    refund = row(world, approved(world, "6009", 700, 5000))

    def broken(execution: Execution) -> RefundResult:
        raise RuntimeError("x" * 600)

    monkeypatch.setattr(world.hub.hub.gateways["sandbox"], "refund", broken)
    result = executing.call_executor(world.hub.hub, refund, executing.execution_for(refund))
    assert result == RefundResult(outcome=Outcome.UNKNOWN, code="adapter_error", message="x" * 500)


# ── take ────────────────────────────────────────────────────────────────────────────────────────


def take(w: World, refund_id: str, *, resend: bool = False) -> executing.Taken:
    with w.hub.hub.engine.begin() as conn:
        return executing.take(conn, refund_id, LEASE, resend=resend)


def test_taking_an_approved_refund_claims_it_durably(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    made_durable: list[Any] = []
    monkeypatch.setattr(executing, "durable", made_durable.append)
    refund_id = approved(world, "6010", 700, 5000)
    taken = take(world, refund_id)
    assert taken.claimed is True
    assert taken.row is not None
    assert (taken.row.id, taken.row.state) == (refund_id, states.APPROVED)  # as it was
    assert taken.to_write_back is False
    assert len(made_durable) == 1  # "a call may go out" survives a crash
    claimed = row(world, refund_id)
    assert (claimed.state, claimed.attempts) == (states.EXECUTING, 1)
    [entry] = audit_of(world, refund_id, "executing")
    assert entry.actor == "worker"
    assert entry.detail == {"route": ROUTE, "attempt": 1, "idempotency_key": f"rh-{refund_id}"}
    again = take(world, refund_id)  # another worker holds it
    assert (again.claimed, again.to_write_back) == (False, False)
    assert len(made_durable) == 1


def test_nothing_to_take(world: World) -> None:
    missing = take(world, "rf_missing")
    assert (missing.row, missing.claimed, missing.to_write_back) == (None, False, False)


def test_a_succeeded_refund_is_only_left_to_write_back(world: World) -> None:
    refund_id = approved(world, "6011", 700, 5000)
    force(world, refund_id, state=states.SUCCEEDED)
    taken = take(world, refund_id, resend=True)
    assert (taken.claimed, taken.to_write_back) == (False, True)
    assert row(world, refund_id).state == states.SUCCEEDED


def test_refunds_in_other_states_are_not_taken(world: World) -> None:
    for n, state in enumerate(["requested", "review", "executing", "pending", "failed", "written_back"]):
        refund_id = approved(world, f"612{n}", 700, 5000)
        force(world, refund_id, state=state)
        for resend in (False, True):
            taken = take(world, refund_id, resend=resend)
            assert (taken.claimed, taken.to_write_back) == (False, False)
        assert row(world, refund_id).state == state


def test_an_unknown_refund_is_taken_only_to_resend(world: World) -> None:
    refund_id = approved(world, "6013", 700, 5000)
    force(world, refund_id, state=states.UNKNOWN, attempts=1)
    assert take(world, refund_id).claimed is False
    assert row(world, refund_id).state == states.UNKNOWN
    assert take(world, refund_id, resend=True).claimed is True
    assert row(world, refund_id).attempts == 2
    [entry] = audit_of(world, refund_id, "executing")
    assert entry.detail["attempt"] == 2


def test_taken_is_immutable() -> None:
    taken = executing.Taken(None, claimed=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        taken.claimed = True  # type: ignore[misc]


# ── execute ─────────────────────────────────────────────────────────────────────────────────────


def test_the_claim_is_committed_with_its_lease_before_the_call(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    refund_id = approved(world, "6014", 700, 5000)
    adapter = world.hub.hub.gateways["sandbox"]
    real = adapter.refund
    seen: list[Refund] = []

    def refund(execution: Execution) -> RefundResult:
        seen.append(row(world, refund_id))  # another connection: only what was committed
        return real(execution)

    monkeypatch.setattr(adapter, "refund", refund)
    started = datetime.now(UTC)
    assert executing.execute(world.hub.hub, refund_id) == states.WRITTEN_BACK
    [during] = seen
    assert during.state == states.EXECUTING
    assert during.lease_until is not None
    lease = timedelta(seconds=world.hub.hub.config.hub.lease_seconds)
    assert during.lease_until >= started + lease - timedelta(seconds=1)
    done = row(world, refund_id)
    assert (done.state, done.lease_until) == (states.WRITTEN_BACK, None)
    [result] = audit_of(world, refund_id, "executor_result")
    assert result.actor == "worker"
    assert [r["amount"] for r in world.platform.refunds["6014"]] == [700]


def test_execute_returns_the_state_an_answer_left(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [(Outcome.PENDING, states.PENDING), (Outcome.FAILED, states.FAILED), (Outcome.UNKNOWN, states.UNKNOWN)]
    for n, (fixed, state) in enumerate(cases):
        refund_id = approved(world, f"615{n}", 700, 5000)
        answer = RefundResult(outcome=fixed, gateway_refund_id=f"re_{n}", message="as told")
        monkeypatch.setattr(world.hub.hub.gateways["sandbox"], "refund", lambda execution, a=answer: a)
        assert executing.execute(world.hub.hub, refund_id) == state
        assert row(world, refund_id).state == state
        assert world.platform.refunds[f"615{n}"] == []  # nothing is written back before a success


def test_execute_of_an_unavailable_gateway_returns_approved(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    refund_id = approved(world, "6016", 700, 5000)
    down = RefundResult(outcome=Outcome.UNAVAILABLE, message="down")
    monkeypatch.setattr(world.hub.hub.gateways["sandbox"], "refund", lambda execution: down)
    assert executing.execute(world.hub.hub, refund_id) == states.APPROVED


def test_execute_of_what_is_not_approved(world: World) -> None:
    assert executing.execute(world.hub.hub, "rf_missing") is None
    refund_id = approved(world, "6017", 700, 5000)
    force(world, refund_id, state=states.REVIEW)
    assert executing.execute(world.hub.hub, refund_id) == states.REVIEW
    force(world, refund_id, state=states.UNKNOWN)
    assert executing.execute(world.hub.hub, refund_id) == states.UNKNOWN  # no resend asked
    assert world.gateway_refunds() == []
    assert executing.execute(world.hub.hub, refund_id, resend=True) == states.WRITTEN_BACK
    assert len(world.gateway_refunds()) == 1


def test_execute_writes_back_a_success_left_unwritten(world: World) -> None:
    refund_id = approved(world, "6018", 700, 5000)
    assert executing.execute(world.hub.hub, refund_id) == states.WRITTEN_BACK
    force(world, refund_id, state=states.SUCCEEDED, writeback_lease_until=None)
    assert executing.execute(world.hub.hub, refund_id) == states.WRITTEN_BACK
    assert row(world, refund_id).state == states.WRITTEN_BACK
    assert len(audit_of(world, refund_id, "written_back")) == 2
    assert len(world.platform.refunds["6018"]) == 1  # the store's record is keyed: it replays
    assert len(world.gateway_refunds()) == 1  # the money moved once


# ── settle ──────────────────────────────────────────────────────────────────────────────────────


def executing_refund(w: World, order_id: str, **values: Any) -> str:
    refund_id = approved(w, order_id, 700, 5000)
    force(w, refund_id, state=states.EXECUTING, lease_until=datetime.now(UTC) + LEASE, attempts=1, **values)
    return refund_id


def answer(outcome: Outcome, **kw: Any) -> RefundResult:
    return RefundResult(outcome=outcome, **kw)


def test_every_answer_is_recorded_and_audited(world: World, wakes: Wakes) -> None:
    cases = [
        (Outcome.SUCCEEDED, states.SUCCEEDED),
        (Outcome.PENDING, states.PENDING),
        (Outcome.FAILED, states.FAILED),
        (Outcome.UNKNOWN, states.UNKNOWN),
    ]
    for n, (outcome, state) in enumerate(cases):
        woken = wakes.count
        refund_id = executing_refund(world, f"602{n}", last_error="earlier")
        result = answer(outcome, gateway_refund_id="re_1", code="c-1", message="words", raw_status="raw")
        settled = settle(world.hub.hub, refund_id, result, expect=states.EXECUTING, actor="tester")
        assert (settled.state, settled.applied) == (state, True)
        assert settled.refund is not None
        assert settled.refund.state == state
        assert settled.succeeded is (state == states.SUCCEEDED)
        stored = row(world, refund_id)
        assert (stored.state, stored.gateway_refund_id, stored.lease_until) == (state, "re_1", None)
        assert stored.last_error == ("words" if state == states.FAILED else None)
        assert (stored.executed_at is not None) is (state == states.SUCCEEDED)
        [entry] = audit_of(world, refund_id, "executor_result")
        assert entry.actor == "tester"
        assert entry.detail == {
            "outcome": outcome.value,
            "gateway_refund_id": "re_1",
            "code": "c-1",
            "message": "words",
            "raw_status": "raw",
            "applied": True,
        }
        write_backs = ready_jobs(world, refund_id, "write_back")
        assert len(write_backs) == (1 if state == states.SUCCEEDED else 0)
        assert wakes.count - woken == (1 if state == states.SUCCEEDED else 0)


def test_an_answer_without_a_gateway_id_keeps_the_one_known(world: World) -> None:
    refund_id = executing_refund(world, "6021", gateway_refund_id="re_known")
    settle(world.hub.hub, refund_id, answer(Outcome.PENDING), expect=states.EXECUTING, actor="t")
    assert row(world, refund_id).gateway_refund_id == "re_known"


def test_an_inline_success_takes_the_write_back_with_a_lease(world: World, wakes: Wakes) -> None:
    refund_id = executing_refund(world, "6022")
    settled = settle(
        world.hub.hub, refund_id, answer(Outcome.SUCCEEDED), expect=states.EXECUTING, actor="worker", inline=True
    )
    assert settled.succeeded
    assert settled.applied
    stored = row(world, refund_id)
    assert stored.executed_at is not None
    assert stored.writeback_lease_until is not None
    lease = timedelta(seconds=world.hub.hub.config.hub.lease_seconds)
    assert stored.writeback_lease_until - stored.executed_at == lease
    assert ready_jobs(world, refund_id, "write_back") == []  # the executor writes back itself
    assert wakes.count == 0


def test_the_same_answer_twice_is_recorded_once(world: World, wakes: Wakes) -> None:
    refund_id = executing_refund(world, "6023")
    first = settle(world.hub.hub, refund_id, answer(Outcome.SUCCEEDED), expect=states.EXECUTING, actor="t")
    again = settle(
        world.hub.hub, refund_id, answer(Outcome.SUCCEEDED), expect=(states.EXECUTING, states.SUCCEEDED), actor="t"
    )
    assert first.applied is True
    assert (again.state, again.applied) == (states.SUCCEEDED, False)
    assert again.refund is not None
    assert again.refund.id == refund_id
    assert again.succeeded is True
    assert len(audit_of(world, refund_id, "executor_result")) == 1
    assert len(ready_jobs(world, refund_id, "write_back")) == 1
    assert wakes.count == 1


def test_a_pending_answer_for_a_pending_refund_moves_nothing(world: World) -> None:
    refund_id = executing_refund(world, "6024")
    force(world, refund_id, state=states.PENDING)
    again = settle(world.hub.hub, refund_id, answer(Outcome.PENDING), expect=states.PENDING, actor="t")
    assert (again.state, again.applied) == (states.PENDING, False)
    assert again.refund is not None
    assert again.succeeded is False


def test_an_answer_for_a_refund_that_moved_elsewhere_changes_nothing(world: World, wakes: Wakes) -> None:
    refund_id = executing_refund(world, "6025")
    force(world, refund_id, state=states.PENDING, lease_until=None)
    late = settle(world.hub.hub, refund_id, answer(Outcome.SUCCEEDED), expect=states.EXECUTING, actor="t")
    assert late == Settled(states.PENDING, False, None)
    assert late.succeeded is False
    assert row(world, refund_id).state == states.PENDING
    [entry] = audit_of(world, refund_id, "executor_result")  # recorded as not applied
    assert entry.detail["applied"] is False
    assert ready_jobs(world, refund_id, "write_back") == []
    assert wakes.count == 0


def test_an_answer_for_no_such_refund(world: World) -> None:
    missing = settle(world.hub.hub, "rf_missing", answer(Outcome.FAILED), expect=states.EXECUTING, actor="t")
    assert missing == Settled(states.FAILED, False, None)


def test_a_settled_refund_succeeded_only_with_a_row() -> None:
    assert Settled(states.SUCCEEDED, True, None).succeeded is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settled(states.PENDING, True, None).applied = False  # type: ignore[misc]


# ── unavailable: back to approved, retried with a backoff ───────────────────────────────────────


def delay_of(w: World, refund_id: str) -> float:
    [job] = ready_jobs(w, refund_id)
    return float((job.run_after.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds())


def test_unavailable_retries_after_a_backoff(world: World, wakes: Wakes) -> None:
    for n, (attempts, delay) in enumerate([(0, 1), (1, 1), (2, 2), (4, 8), (9, 256), (10, 300), (40, 300)]):
        woken = wakes.count
        refund_id = executing_refund(world, f"626{n}")
        force(world, refund_id, attempts=attempts)
        down = answer(Outcome.UNAVAILABLE, message="down")
        settled = settle(world.hub.hub, refund_id, down, expect=states.EXECUTING, actor="t")
        assert settled == Settled(states.APPROVED, True, None)
        stored = row(world, refund_id)
        assert (stored.state, stored.last_error, stored.lease_until) == (states.APPROVED, "down", None)
        assert delay - 1.5 < delay_of(world, refund_id) <= delay, attempts
        assert wakes.count - woken == 1
        [entry] = audit_of(world, refund_id, "executor_result")
        assert (entry.detail["outcome"], entry.detail["applied"]) == ("unavailable", True)


def test_unavailable_for_a_refund_not_executing_moves_nothing(world: World, wakes: Wakes) -> None:
    refund_id = approved(world, "6027", 700, 5000)
    force(world, refund_id, state=states.REVIEW)
    settled = settle(world.hub.hub, refund_id, answer(Outcome.UNAVAILABLE), expect=states.EXECUTING, actor="t")
    assert settled == Settled(states.APPROVED, False, None)
    assert row(world, refund_id).state == states.REVIEW
    assert ready_jobs(world, refund_id) == []
    assert wakes.count == 0
