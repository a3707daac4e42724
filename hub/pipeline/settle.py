"""One settle path: an executor's answer recorded, and a success's write-back scheduled.

The executor (right after its call), a gateway's status event and the janitor's resolution all
settle a refund here, so "succeeded → write back" is decided in one place. A success schedules
its write-back as a durable job in the same transaction; the executor, which holds the refund's
job anyway, writes back itself right after (``inline``: it takes the write-back's claim in the
same transaction) and finishes its job with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.contracts import Outcome, RefundResult
from hub.errors import IllegalTransition
from hub.ledger import audit, states, tenders
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.ledger.records import Refund
from hub.ledger.unit import Unit, read, write
from hub.pipeline.notify import announce
from hub.runtime.bootstrap import Hub

RESULT_STATE = {
    Outcome.SUCCEEDED: states.SUCCEEDED,
    Outcome.PENDING: states.PENDING,
    Outcome.FAILED: states.FAILED,
    Outcome.UNKNOWN: states.UNKNOWN,
}


@dataclass(frozen=True)
class Settled:
    """What an answer did: the refund's state now, whether this answer moved it there, and the
    refund as stored (None when another worker moved it elsewhere first)."""

    state: str
    applied: bool
    refund: Refund | None

    @property
    def succeeded(self) -> bool:
        return self.state == states.SUCCEEDED and self.refund is not None


def settle(
    hub: Hub,
    refund_id: str,
    result: RefundResult,
    *,
    expect: str | tuple[str, ...],
    actor: str,
    inline: bool = False,
) -> Settled:
    """Record ``result`` for a refund in ``expect``; ``unavailable`` puts it back to ``approved``
    with a delayed retry. ``inline``: the caller writes a success back itself (no job)."""
    with write(hub.engine) as conn:
        if result.outcome is Outcome.UNAVAILABLE:
            settled = _retry_later(conn, refund_id, result, expect)
        else:
            claim = timedelta(seconds=hub.config.hub.lease_seconds) if inline else None
            settled = _record(conn, refund_id, result, expect, claim)
            if settled.refund is not None and not settled.applied:
                return settled  # the same answer again, or someone got there first: nothing to do
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
            applied=settled.applied,
        )
        queued = settled.applied and result.outcome is Outcome.UNAVAILABLE
        if settled.applied and settled.state == states.SUCCEEDED and not inline:
            queued = jobs.ensure(conn, JobKind.WRITE_BACK, refund_id)
        if settled.applied and settled.refund is not None and settled.refund.parent_id:
            # a part moved: where does its refund stand (all parts paid: the customer hears of it)
            if tenders.roll_up(conn, settled.refund.parent_id) == states.SUCCEEDED:
                announce(conn, settled.refund.parent_id, "completed")
        elif settled.applied and settled.state == states.SUCCEEDED:
            announce(conn, refund_id, "completed")
    if queued:
        hub.dispatcher.wake()
    return settled


def _retry_later(conn: Unit, refund_id: str, result: RefundResult, expect: str | tuple[str, ...]) -> Settled:
    moved = ledger.transition(
        conn, refund_id, states.APPROVED, expect=expect, last_error=result.message, lease_until=None
    )
    if moved:
        jobs.add(conn, JobKind.REFUND, refund_id, delay=_backoff(conn, refund_id))
    return Settled(states.APPROVED, moved, None)


def _record(
    conn: Unit, refund_id: str, result: RefundResult, expect: str | tuple[str, ...], claim: timedelta | None
) -> Settled:
    """``claim``: a success's write-back is taken by the caller in this same transaction."""
    state = RESULT_STATE[result.outcome]
    values: dict[str, Any] = {
        "lease_until": None,
        "last_error": result.message if state == states.FAILED else None,
    }
    if result.gateway_refund_id:
        values["gateway_refund_id"] = result.gateway_refund_id
    if state == states.SUCCEEDED:
        values["executed_at"] = ledger.now()
        if claim is not None:
            values["writeback_lease_until"] = values["executed_at"] + claim
    # a state is no transition to itself: an answer that repeats it ("pending" again) moves nothing
    sources = tuple(s for s in ((expect,) if isinstance(expect, str) else expect) if s != state)
    refund = ledger.transition_returning(conn, refund_id, state, expect=sources, **values) if sources else None
    if refund is not None:
        return Settled(state, True, refund)
    current = ledger.get(conn, refund_id)  # already there, or a status webhook / the janitor was first
    if current is not None and current.state == state:
        return Settled(state, False, current)
    return Settled(current.state if current is not None else state, False, None)


def _backoff(conn: Unit, refund_id: str) -> float:
    refund = ledger.get(conn, refund_id)
    attempts = refund.attempts if refund is not None else 1
    return float(min(300, 2 ** max(0, attempts - 1)))


def retry_failed_parts(hub: Hub, refund_id: str, actor: str) -> list[str]:
    """A person re-tries the failed parts of a partly failed refund (each a new part with a new
    key, reserved again on its tender); returns the new parts, which the worker runs."""
    with write(hub.engine) as conn:
        made = tenders.retry_failed(conn, refund_id, actor)
    hub.dispatcher.wake()
    return made


def accept_partial(hub: Hub, refund_id: str, actor: str) -> str | None:
    """A person accepts what a partly failed refund moved; what the hub paid out is written back."""
    with write(hub.engine) as conn:
        state = tenders.accept_partial(conn, refund_id, actor)
    hub.dispatcher.wake()
    return state


def parts_summary(hub: Hub, refund_id: str) -> dict[str, Any]:
    """A split refund and each of its parts (route, amount, state), for a person deciding."""
    with read(hub.engine) as conn:
        refund = ledger.get(conn, refund_id)
        if refund is None:
            raise IllegalTransition(f"no refund {refund_id}")
        return {"refund": refund_id, "state": refund.state, **tenders.summary(conn, refund_id)}
