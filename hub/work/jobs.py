"""The job outbox. A job row is written in the same transaction as what it is about; a queue
message only wakes a worker, which claims rows with a lease (conditional UPDATE on SQLite,
``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A lost message or a dead worker leaves a row the
janitor finds again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, func, insert, or_, select, update

from hub.db.engine import recoverable
from hub.db.tables import jobs

DELIVERY = "delivery"
REFUND = "refund"
READY, RUNNING, DONE = "ready", "running", "done"


def _now() -> datetime:
    return datetime.now(UTC)


_ADD = insert(jobs)  # values as parameters: compiled once, reused on the webhook hot path


def add(conn: Connection, kind: str, subject_id: str, delay: float = 0.0) -> None:
    at = _now()
    conn.execute(
        _ADD,
        {
            "kind": kind,
            "subject_id": subject_id,
            "state": READY,
            "run_after": at + timedelta(seconds=delay),
            "attempts": 0,
            "created_at": at,
        },
    )


def _claimable(at: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(jobs.c.state == READY, jobs.c.run_after <= at), and_(jobs.c.state == RUNNING, jobs.c.lease_until < at)
    )


def claim_next(engine: Engine, lease: timedelta) -> Row[Any] | None:
    """Take the oldest runnable job (ready, or running under an expired lease)."""
    at = _now()
    pick = select(jobs.c.id).where(_claimable(at)).order_by(jobs.c.id).limit(1)
    if engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    with recoverable(engine) as conn:  # a lost claim only means the job runs again
        return conn.execute(
            update(jobs)
            .where(jobs.c.id == pick.scalar_subquery(), _claimable(at))
            .values(state=RUNNING, lease_until=at + lease, attempts=jobs.c.attempts + 1)
            .returning(jobs.c.id, jobs.c.kind, jobs.c.subject_id, jobs.c.attempts)
        ).first()


def finish(conn: Connection, job_id: int) -> None:
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(state=DONE, lease_until=None))


def retry(conn: Connection, job_id: int, delay: float, error: str) -> None:
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(state=READY, run_after=_now() + timedelta(seconds=delay), lease_until=None, last_error=error[:2000])
    )


def backlog(conn: Connection) -> tuple[int, datetime | None]:
    """How many jobs wait (ready or running) and since when the oldest."""
    count, oldest = conn.execute(select(func.count(), func.min(jobs.c.created_at)).where(jobs.c.state != DONE)).one()
    return int(count), oldest


def runnable(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).where(_claimable(_now()))).scalar_one())


def prune(conn: Connection, older_than: datetime) -> int:
    return conn.execute(jobs.delete().where(jobs.c.state == DONE, jobs.c.created_at < older_than)).rowcount
