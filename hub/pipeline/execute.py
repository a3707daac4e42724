"""Move the money for an approved refund, exactly once, and record the outcome.

The refund is claimed (approved → executing, with a lease) and committed BEFORE the call, so a
worker that dies mid-call leaves an ``executing`` row the janitor turns into ``unknown`` and
resolves by asking the gateway. The idempotency key was stored when the refund was created
and is the same on every attempt (invariant 1).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from hub.contracts import Execution, Outcome, RefundResult
from hub.db.engine import make_durable, recoverable
from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.models import RefundRequest
from hub.pipeline.routing import NONE, PLATFORM, gateway_account
from hub.pipeline.writeback import write_back
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import GATEWAY_LATENCY, GATEWAY_OUTCOMES
from hub.work import jobs

log = logging.getLogger(__name__)
RESULT_STATE = {
    Outcome.SUCCEEDED: states.SUCCEEDED,
    Outcome.PENDING: states.PENDING,
    Outcome.FAILED: states.FAILED,
    Outcome.UNKNOWN: states.UNKNOWN,
}


class Unavailable(Exception):
    """The executor surely did not receive the request: the job retries with the same key."""


def execution_for(row: Any, request: RefundRequest | None = None) -> Execution:
    request = request or RefundRequest.model_validate(row.request)
    payment = request.payments[0]
    return Execution(
        hub_refund_id=row.id,
        idempotency_key=row.idempotency_key,
        payment_reference=payment.reference,
        amount=row.approved_amount,
        currency=row.currency,
        order_id=row.order_id,
        source_ref=row.source_ref,
        payment_extra=dict(payment.extra),
        lines=request.lines,
        shipping=request.shipping,
        note=f"Refund Hub {row.id}",
        reason=request.reason.value,
        full_refund=row.approved_amount >= payment.captured,
    )


def call_executor(hub: Hub, row: Any, execution: Execution) -> RefundResult:
    """The one place money moves: a gateway account, or the platform through its connector."""
    if row.route == NONE:
        return RefundResult(outcome=Outcome.SUCCEEDED, message="route 'none': money already moved")
    account = gateway_account(row.route or "")
    started = time.perf_counter()
    label = account or PLATFORM
    try:
        if account is not None:
            result = hub.gateways[account].refund(execution)
        else:
            store = hub.stores[row.connector].get(row.store_id)
            if store is None:
                return RefundResult(outcome=Outcome.UNAVAILABLE, message="store is disabled")
            result = hub.connectors[row.connector].refund_on_platform(store, execution)
    except Exception as exc:  # an adapter broke its contract: the call may have gone out
        log.exception("executor %s raised for refund %s", label, row.id, extra={"refund_id": row.id})
        result = RefundResult(outcome=Outcome.UNKNOWN, code="adapter_error", message=str(exc)[:500])
    GATEWAY_LATENCY.labels(executor=label).observe(time.perf_counter() - started)
    GATEWAY_OUTCOMES.labels(executor=label, outcome=result.outcome.value).inc()
    return result


@dataclass(frozen=True)
class Taken:
    """What ``take`` found: the refund as it was, and whether this worker now holds it."""

    row: Any
    claimed: bool


def take(conn: Connection, refund_id: str, lease: timedelta, *, resend: bool = False) -> Taken | str:
    """Inside the caller's transaction, claim the refund for execution (approved → executing, or
    unknown → executing for a ``resend``); a string is the final answer (missing, or a state
    nothing is left to do in). A claim makes the transaction durable: "a call may go out" must
    survive a crash before the call."""
    row = ledger.get(conn, refund_id)
    if row is None:
        return "missing"
    if row.state == states.SUCCEEDED:
        return Taken(row, claimed=False)
    if row.state != states.APPROVED and not (resend and row.state == states.UNKNOWN):
        return str(row.state)
    claimed = ledger.claim(conn, refund_id, lease)
    if claimed:
        make_durable(conn)
        audit.write(
            conn,
            "worker",
            "executing",
            refund_id=refund_id,
            route=row.route,
            attempt=row.attempts + 1,
            idempotency_key=row.idempotency_key,
        )
    return Taken(row, claimed)


def execute(
    hub: Hub,
    refund_id: str,
    *,
    resend: bool = False,
    job: jobs.JobRun | None = None,
    taken: Taken | str | None = None,
) -> str:
    """Carry an approved refund through its executor; ``resend`` lets the janitor re-send an
    ``unknown`` one (same key) once the gateway has no trace of it. ``job`` is finished together
    with the write-back; ``taken``: the worker already ran ``take`` in its job claim."""
    if taken is None:
        with hub.engine.begin() as conn:
            taken = take(conn, refund_id, timedelta(seconds=hub.config.hub.lease_seconds), resend=resend)
    if isinstance(taken, str):
        return taken
    row, request = taken.row, None
    if row.state != states.SUCCEEDED:
        if not taken.claimed:
            return "taken"
        request = RefundRequest.model_validate(row.request)
        result = call_executor(hub, row, execution_for(row, request))
        state, row = record_result(hub, refund_id, result, expect=states.EXECUTING, actor="worker")
        if state != states.SUCCEEDED:
            return state
    return write_back(hub, refund_id, row=row, job=job, request=request)


def apply_result(hub: Hub, refund_id: str, result: RefundResult, *, expect: str | tuple[str, ...], actor: str) -> str:
    """Record an executor's answer; ``unavailable`` returns the refund to ``approved`` to retry."""
    return record_result(hub, refund_id, result, expect=expect, actor=actor)[0]


def record_result(
    hub: Hub, refund_id: str, result: RefundResult, *, expect: str | tuple[str, ...], actor: str
) -> tuple[str, Any]:
    """``apply_result`` that also returns the refund row as it now is (None if another worker
    moved it first), so a write-back can follow without reading it again."""
    row = None
    with recoverable(hub.engine) as conn:
        if result.outcome is Outcome.UNAVAILABLE:
            moved = ledger.transition(
                conn, refund_id, states.APPROVED, expect=expect, last_error=result.message, lease_until=None
            )
            state = states.APPROVED
            if moved:
                jobs.add(conn, jobs.REFUND, refund_id, delay=_backoff(conn, refund_id))
        else:
            state = RESULT_STATE[result.outcome]
            values: dict[str, Any] = {
                "lease_until": None,
                "last_error": result.message if state == states.FAILED else None,
            }
            if result.gateway_refund_id:
                values["gateway_refund_id"] = result.gateway_refund_id
            if state == states.SUCCEEDED:
                values["executed_at"] = ledger.now()
            # a state is no transition to itself: an answer that repeats it ("pending" again) moves nothing
            sources = tuple(s for s in ((expect,) if isinstance(expect, str) else expect) if s != state)
            row = ledger.transition_returning(conn, refund_id, state, expect=sources, **values) if sources else None
            moved = row is not None
            if not moved:  # already there, or someone else (a status webhook, the janitor) got there first
                current = ledger.get(conn, refund_id)
                if current is not None and current.state == state:
                    return state, current
        audit.write(
            conn,
            actor,
            "executor_result",
            refund_id=refund_id,
            outcome=result.outcome.value,
            gateway_refund_id=result.gateway_refund_id,
            code=result.code,
            message=result.message,
            raw_status=result.raw_status,
            applied=moved,
        )
    if result.outcome is Outcome.UNAVAILABLE:
        hub.dispatcher.wake()
    return (state if moved else "taken"), row


def _backoff(conn: Any, refund_id: str) -> float:
    row = ledger.get(conn, refund_id)
    attempts = row.attempts if row is not None else 1
    return float(min(300, 2 ** max(0, attempts - 1)))
