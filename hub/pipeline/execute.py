"""Move the money for an approved refund, exactly once, and record the outcome.

The refund is claimed (approved → executing, with a lease) and committed BEFORE the call, so a
worker that dies mid-call leaves an ``executing`` row the janitor turns into ``unknown`` and
resolves by asking the gateway. The idempotency key was stored when the refund was created
and is the same on every attempt (invariant 1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.contracts import Execution, Outcome, RefundResult
from hub.ledger import audit, claims, states
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobRun
from hub.ledger.records import Refund
from hub.ledger.unit import Unit, durable, read
from hub.models import RefundRequest
from hub.pipeline.disputes import hold_before_sending
from hub.pipeline.routing import NONE, PLATFORM, gateway_account
from hub.pipeline.settle import settle
from hub.pipeline.writeback import decided_lines, decision_of, write_back
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import GATEWAY_LATENCY, GATEWAY_OUTCOMES

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """The executor surely did not receive the request: the job retries with the same key."""


def execution_for(
    row: Refund, request: RefundRequest | None = None, decision: Mapping[str, Any] | None = None
) -> Execution:
    """The call to make: ``decision`` (the policy's, a part's being its refund's; default the
    row's own) says which lines go back and how much for each."""
    if row.approved_amount is None:  # approval always sets it: a refund without one was never approved
        raise ValueError(f"refund {row.id} has no approved amount")
    request = request or RefundRequest.model_validate(row.request)
    payment = request.payments[0]
    amount = row.approved_amount
    lines, line_amounts = decided_lines(request, decision if decision is not None else row.decision)
    return Execution(
        hub_refund_id=row.id,
        idempotency_key=row.idempotency_key,
        payment_reference=payment.reference,
        amount=amount,
        currency=row.currency,
        order_id=row.order_id,
        source_ref=row.source_ref,
        payment_extra=dict(payment.extra),
        lines=lines,
        shipping=request.shipping,
        note=f"Refund Hub {row.id}",
        reason=request.reason.value,
        full_refund=amount >= payment.captured,
        line_amounts=line_amounts,
    )


def call_executor(hub: Hub, row: Refund, execution: Execution) -> RefundResult:
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
    except Exception as exc:  # noqa: BLE001 - an adapter broke its contract: the call may have gone out
        log.exception("executor %s raised for refund %s", label, row.id, extra={"refund_id": row.id})
        result = RefundResult(outcome=Outcome.UNKNOWN, code="adapter_error", message=str(exc)[:500])
    GATEWAY_LATENCY.labels(executor=label).observe(time.perf_counter() - started)
    GATEWAY_OUTCOMES.labels(executor=label, outcome=result.outcome.value).inc()
    return result


@dataclass(frozen=True)
class Taken:
    """What ``take`` found: the refund as it was (None if there is no such refund), and whether
    this worker now holds it for execution."""

    row: Refund | None
    claimed: bool

    @property
    def to_write_back(self) -> bool:
        """The money moved already; only the write-back may be left."""
        return self.row is not None and self.row.state == states.SUCCEEDED


def take(conn: Unit, refund_id: str, lease: timedelta, *, resend: bool = False) -> Taken:
    """Inside the caller's transaction, claim the refund for execution (approved → executing, or
    unknown → executing for a ``resend``). A claim makes the transaction durable: "a call may go
    out" must survive a crash before the call."""
    row = ledger.get(conn, refund_id)
    if row is None or row.state == states.SUCCEEDED:
        return Taken(row, claimed=False)
    if row.state != states.APPROVED and not (resend and row.state == states.UNKNOWN):
        return Taken(row, claimed=False)
    if hold_before_sending(conn, row):  # a dispute opened while an earlier call was out
        return Taken(row, claimed=False)
    claimed = claims.claim(conn, refund_id, lease)
    if claimed:
        durable(conn)
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
    job: JobRun | None = None,
    taken: Taken | None = None,
) -> str | None:
    """Carry an approved refund through its executor and write a success back; returns the
    refund's state afterwards (None if there is no such refund). ``resend`` lets the janitor
    re-send an ``unknown`` one (same key) once the executor has no trace of it. ``job`` is
    finished together with the write-back; ``taken``: the worker already ran ``take`` in its
    job claim."""
    if taken is None:
        with hub.engine.begin() as conn:
            taken = take(conn, refund_id, timedelta(seconds=hub.config.hub.lease_seconds), resend=resend)
    row, request = taken.row, None
    if row is None:
        return None
    if taken.claimed:
        request = RefundRequest.model_validate(row.request)
        decision: Mapping[str, Any] | None = row.decision
        if row.parent_id:  # a part: the lines go back as its refund's decision says
            with read(hub.engine) as conn:
                decision = decision_of(conn, row)
        result = call_executor(hub, row, execution_for(row, request, decision))
        settled = settle(hub, refund_id, result, expect=states.EXECUTING, actor="worker", inline=True)
        if not settled.succeeded or not settled.applied:
            return settled.state  # pending, failed, unknown, retried later — or someone else settled it
        return write_back(hub, refund_id, row=settled.refund, claimed=True, job=job, request=request)
    if not taken.to_write_back:
        return row.state  # nothing left to do here (another worker holds it, or it is done)
    return write_back(hub, refund_id, row=row, job=job)
