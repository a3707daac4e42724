"""Claims: who holds a refund right now. An execution (approved → executing, with a lease and one
more attempt), a write-back of a succeeded refund, the resolution of a pending/unknown one — each
has one owner at a time across every worker, and a lease that a dead owner's successor waits out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from hub.db.tables import refunds
from hub.ledger import states
from hub.ledger.records import Refund, from_row
from hub.ledger.refunds import NEXT_ATTEMPT, now, transition


def claim(conn: Connection, refund_id: str, lease: timedelta) -> bool:
    """Take the refund for execution: approved → executing, with a lease and one more attempt."""
    return transition(
        conn,
        refund_id,
        states.EXECUTING,
        expect=(states.APPROVED, states.UNKNOWN),
        lease_until=now() + lease,
        attempts=NEXT_ATTEMPT,
        last_error=None,
    )


def claim_write_back(conn: Connection, refund_id: str, lease: timedelta) -> Refund | None:
    """Take the write-back of a succeeded refund (one owner under a lease, like an execution):
    the refund as claimed, or None if it is not succeeded or another worker holds it."""
    at = now()
    row = conn.execute(
        update(refunds)
        .where(
            refunds.c.id == refund_id,
            refunds.c.state == states.SUCCEEDED,
            or_(refunds.c.writeback_lease_until.is_(None), refunds.c.writeback_lease_until < at),
        )
        .values(writeback_lease_until=at + lease)
        .returning(*refunds.columns)
    ).first()
    return from_row(Refund, row) if row is not None else None


def release_write_back(conn: Connection, refund_id: str) -> None:
    """The store refused the record: the next attempt may claim it at once."""
    conn.execute(
        update(refunds)
        .where(refunds.c.id == refund_id, refunds.c.state == states.SUCCEEDED)
        .values(writeback_lease_until=None)
    )


def claim_resolution(conn: Connection, refund_id: str, state: str, lease: timedelta) -> bool:
    """Take the resolution of a ``pending``/``unknown`` refund (one resolver at a time across the
    cluster): its lease, unused in those states, marks the resolver's hold."""
    at = now()
    result = conn.execute(
        update(refunds)
        .where(
            refunds.c.id == refund_id,
            refunds.c.state == state,
            or_(refunds.c.lease_until.is_(None), refunds.c.lease_until < at),
        )
        .values(lease_until=at + lease)
    )
    return result.rowcount == 1


def release_resolution(conn: Connection, refund_id: str) -> None:
    """Let the next sweep ask again (a refund that moved on keeps whatever lease it has now)."""
    conn.execute(
        update(refunds)
        .where(refunds.c.id == refund_id, refunds.c.state.in_((states.PENDING, states.UNKNOWN)))
        .values(lease_until=None)
    )


def expired_executions(conn: Connection, at: datetime) -> list[str]:
    """Refunds a worker took and never finished (it died, or lost its job): money in doubt."""
    rows = conn.execute(select(refunds.c.id).where(refunds.c.state == states.EXECUTING, refunds.c.lease_until < at))
    return [r.id for r in rows]
