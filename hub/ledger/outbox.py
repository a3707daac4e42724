"""The job outbox. A job row is written in the same transaction as what it is about; a queue
message only wakes a worker, which claims rows with a lease (conditional UPDATE on SQLite,
``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A lost message or a dead worker leaves a row the
janitor finds again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.sql.dml import Update

from hub.db.engine import recoverable
from hub.db.tables import jobs
from hub.ledger.records import ClaimedJob


class JobKind(StrEnum):
    """Every kind of job the worker runs; the subject is a delivery id or a refund id."""

    DELIVERY = "delivery"  # parse, fetch and take a stored delivery into the ledger
    DECIDE = "decide"  # run the policy on a requested refund
    REFUND = "refund"  # move the money of an approved refund (then write it back)
    RESEND = "resend"  # re-send an unknown refund with its same key (the executor has no trace)
    WRITE_BACK = "write_back"  # record a succeeded refund on the store
    NOTIFY = "notify"  # tell the customer about a denial or an alternative
    NOTICE = "notice"  # send one notice to the customer (subject: the notice row's id)
    CREDIT = "credit"  # issue an accepted alternative on the platform (store credit, coupon)
    WEBHOOK = "webhook"  # send what an outgoing webhook endpoint is owed (subject: the endpoint id)


DELIVERY, REFUND = JobKind.DELIVERY.value, JobKind.REFUND.value  # plain strings for the DBAPI hot path
READY, RUNNING, DONE = "ready", "running", "done"


def _now() -> datetime:
    return datetime.now(UTC)


_ADD = insert(jobs)  # values as parameters: compiled once, reused on the webhook hot path


def add(conn: Connection, kind: str, subject_id: str, delay: float = 0.0) -> None:
    """A new job, committed with whatever the caller writes in the same transaction."""
    at = _now()
    conn.execute(
        _ADD,
        {
            "kind": str(kind),
            "subject_id": subject_id,
            "state": READY,
            "run_after": at + timedelta(seconds=delay),
            "attempts": 0,
            "created_at": at,
        },
    )


def ensure(conn: Connection, kind: str, subject_id: str) -> bool:
    """Add the job unless one of the same kind for the same subject is still open (ready or
    running): a re-drive must not pile up jobs for one refund. True if it added one."""
    open_job = conn.execute(_OPEN, {"kind": str(kind), "subject_id": subject_id}).first()
    if open_job is not None:
        return False
    add(conn, kind, subject_id)
    return True


_OPEN = select(jobs.c.id).where(
    jobs.c.kind == bindparam("kind"), jobs.c.subject_id == bindparam("subject_id"), jobs.c.state != DONE
)


def _claimable(at: Any):  # type: ignore[no-untyped-def]
    return or_(
        and_(jobs.c.state == READY, jobs.c.run_after <= at), and_(jobs.c.state == RUNNING, jobs.c.lease_until < at)
    )


def claim_next(
    engine: Engine, lease: timedelta, first_step: Callable[[Connection, ClaimedJob], None] | None = None
) -> ClaimedJob | None:
    """Take the oldest runnable job (ready, or running under an expired lease). ``first_step``
    runs in the same transaction with the claimed job: one transaction fewer for a job whose
    handler starts with a write (it makes the transaction durable if what it wrote needs it)."""
    at = _now()
    with recoverable(engine) as conn:  # a lost claim only means the job runs again
        row = conn.execute(_claim_statement(engine.dialect.name), {"at": at, "lease_until": at + lease}).first()
        job = ClaimedJob(row.id, row.kind, row.subject_id, row.attempts) if row is not None else None
        if job is not None and first_step is not None:
            first_step(conn, job)
        return job


@lru_cache(maxsize=4)
def _claim_statement(dialect_name: str) -> Update:
    """Built once per dialect: ``at`` and ``lease_until`` travel as parameters."""
    claimable = _claimable(bindparam("at"))
    pick = select(jobs.c.id).where(claimable).order_by(jobs.c.id).limit(1)
    if dialect_name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return (
        update(jobs)
        .where(jobs.c.id == pick.scalar_subquery(), claimable)
        .values(state=RUNNING, lease_until=bindparam("lease_until"), attempts=jobs.c.attempts + 1)
        .returning(jobs.c.id, jobs.c.kind, jobs.c.subject_id, jobs.c.attempts)
    )


_FINISH = update(jobs).where(jobs.c.id == bindparam("job_id")).values(state=DONE, lease_until=None)


def finish(conn: Connection, job_id: int) -> None:
    conn.execute(_FINISH, {"job_id": job_id})


@dataclass
class JobRun:
    """The job a handler runs under. A handler whose last write is its own transaction can
    ``finish`` the job inside it (one transaction fewer, and the two cannot disagree)."""

    id: int
    finished: bool = False

    def finish(self, conn: Connection) -> None:
        finish(conn, self.id)
        self.finished = True


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
