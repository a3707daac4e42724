"""Survivors of bench/mutation.py in hub/pipeline/execute.py: the call's lines follow the policy's
per-line decision — the one given (a part's is its refund's), else the row's own; an ``unknown``
refund is taken again only when a resend is asked for; a refund a dispute holds is found, not taken;
a success is written back inline only when this call's answer recorded it, and the job it ran
under finishes with the write-back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.contracts import Execution, Outcome, RefundResult
from hub.db.tables import jobs, refunds
from hub.ledger import outbox, payments, states
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.models import Line, OrderFacts, Payment, ReasonCode, RefundRequest
from hub.pipeline.disputes import HOLD_KEY, PENDING_KEY
from hub.pipeline.execute import Taken, execute, execution_for, take
from hub.pipeline.settle import settle
from hub.work.runner import drain
from tests.hub.conftest import STORE, World

# the policy gave the first line back in full and nothing for the second (a digital good)
FIRST_ONLY = {"decision": {"line_amounts": [["l1", 3000], ["l2", 0]]}}


def two_lines_approved(w: World, order_id: str, decision: dict[str, Any] | None = None) -> Refund:
    reference = w.order(order_id, 5000)
    now = datetime.now(UTC)
    request = RefundRequest(
        connector="sandbox",
        store_id=STORE,
        order_id=order_id,
        source_ref=f"rq-{order_id}",
        order=OrderFacts(created_at=now, currency="USD", total=5000, captured=5000),
        lines=(Line(line_id="l1", quantity=1, unit_price=3000), Line(line_id="l2", quantity=1, unit_price=2000)),
        amount=3000,
        currency="USD",
        reason=ReasonCode.DAMAGED,
        payments=(Payment(platform_label="sandbox", reference=reference, captured=5000, currency="USD"),),
        requested_at=now,
    )
    with w.hub.hub.engine.begin() as conn:
        refund_id, _ = ledger.open_refund(conn, request, kind="requested", state=states.REQUESTED)
        payment_id = payments.upsert(conn, STORE, "gateway:sandbox", request.payments[0])
        ledger.set_payment(conn, refund_id, payment_id, "gateway:sandbox")
        payments.reserve(conn, refund_id, payment_id, 3000, expect=states.REQUESTED)
        conn.execute(sa.update(refunds).where(refunds.c.id == refund_id).values(decision=decision))
        found = ledger.get(conn, refund_id)
    assert found is not None
    return found


def test_the_given_decision_says_which_lines_go_back(world: World) -> None:
    row = two_lines_approved(world, "7101")  # the row itself has no per-line decision
    execution = execution_for(row, None, FIRST_ONLY)
    assert [line.line_id for line in execution.lines] == ["l1"]
    assert execution.line_amounts == {"l1": 3000}
    assert [line.line_id for line in execution_for(row).lines] == ["l1", "l2"]  # no decision: every line


def test_without_one_the_rows_own_decision_is_used(world: World) -> None:
    row = two_lines_approved(world, "7102", FIRST_ONLY)
    execution = execution_for(row)
    assert ([line.line_id for line in execution.lines], execution.line_amounts) == (["l1"], {"l1": 3000})
    everything = execution_for(row, None, {})  # a decision given, even an empty one, wins over the row's
    assert ([line.line_id for line in everything.lines], everything.line_amounts) == (["l1", "l2"], {})


def test_an_unknown_refund_is_not_taken_unless_a_resend_is_asked(world: World) -> None:
    row = two_lines_approved(world, "7103")
    with world.hub.hub.engine.begin() as conn:
        conn.execute(sa.update(refunds).where(refunds.c.id == row.id).values(state=states.UNKNOWN, attempts=1))
        assert take(conn, row.id, timedelta(seconds=300)).claimed is False  # the default: no resend
        assert take(conn, row.id, timedelta(seconds=300), resend=True).claimed is True


def test_a_refund_a_dispute_holds_is_found_and_not_taken(world: World) -> None:
    """An earlier call was out when a dispute opened, and came back surely unsent: ``take`` hands
    the refund to a person and says what it found (the row, not claimed) instead of sending it."""
    row = two_lines_approved(world, "7104", {PENDING_KEY: "open dispute du_7104"})
    with world.hub.hub.engine.begin() as conn:
        payments.set_disputed(conn, STORE, "gateway:sandbox", row.request["payments"][0]["reference"], True)
        taken = take(conn, row.id, timedelta(seconds=300))
        held = ledger.get(conn, row.id)
    assert isinstance(taken, Taken)
    assert (taken.row, taken.claimed, taken.to_write_back) == (row, False, False)
    assert held is not None
    assert held.state == states.REVIEW
    assert held.decision == {HOLD_KEY: "open dispute du_7104"}


def refund_job(w: World, refund_id: str) -> outbox.JobRun:
    with w.hub.hub.engine.begin() as conn:
        outbox.add(conn, outbox.JobKind.REFUND, refund_id)
        job_id = conn.execute(sa.select(sa.func.max(jobs.c.id)).where(jobs.c.subject_id == refund_id)).scalar_one()
    return outbox.JobRun(job_id)


def job_state(w: World, job: outbox.JobRun) -> str:
    with w.hub.hub.engine.begin() as conn:
        return str(conn.execute(sa.select(jobs.c.state).where(jobs.c.id == job.id)).scalar_one())


def test_the_job_finishes_in_the_write_backs_own_commit(world: World) -> None:
    row = two_lines_approved(world, "7105")
    job = refund_job(world, row.id)
    assert execute(world.hub.hub, row.id, job=job) == states.WRITTEN_BACK
    assert job.finished  # the runner does not finish it again
    assert job_state(world, job) == "done"
    # a success whose write-back was lost (the janitor re-drives it): its job finishes the same way
    with world.hub.hub.engine.begin() as conn:
        conn.execute(
            sa.update(refunds).where(refunds.c.id == row.id).values(state=states.SUCCEEDED, writeback_lease_until=None)
        )
    again = refund_job(world, row.id)
    assert execute(world.hub.hub, row.id, job=again) == states.WRITTEN_BACK
    assert again.finished
    assert job_state(world, again) == "done"


def test_a_success_a_status_event_recorded_first_is_left_to_its_write_back_job(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway's status event settles the refund while the executor's call is still out: the
    executor's own answer then moves nothing, and the write-back is the event's job's to do — the
    executor, which holds no write-back claim, must not call the store itself."""
    row = two_lines_approved(world, "7106")
    adapter = world.hub.hub.gateways["sandbox"]
    real = adapter.refund

    def refund_and_event_first(execution: Execution) -> RefundResult:
        answer = real(execution)
        event = RefundResult(outcome=Outcome.SUCCEEDED, gateway_refund_id=answer.gateway_refund_id)
        assert settle(world.hub.hub, row.id, event, expect=states.EXECUTING, actor="gateway_event").applied
        return answer

    monkeypatch.setattr(adapter, "refund", refund_and_event_first)
    assert execute(world.hub.hub, row.id) == states.SUCCEEDED
    assert world.platform.refunds["7106"] == []  # not written back by the executor
    drain(world.hub.hub)  # the event's write-back job
    assert [r["amount"] for r in world.platform.refunds["7106"]] == [3000]
    with world.hub.hub.engine.begin() as conn:
        done = ledger.get(conn, row.id)
    assert done is not None
    assert done.state == states.WRITTEN_BACK
