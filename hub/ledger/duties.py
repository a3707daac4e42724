"""The janitor's duties, each claimed with a lease like a job: at most one owner at a time
across every worker process, and not run again before its interval has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from hub.db.tables import duties
from hub.db.upsert import insert_ignore
from hub.ledger.records import as_utc


@dataclass(frozen=True)
class DutyRun:
    """A duty's last run, as ``/metrics`` shows it."""

    name: str
    last_started: datetime | None
    last_finished: datetime | None
    last_duration: float | None
    runs: int
    failures: int


def claim(conn: Connection, name: str, owner: str, lease: timedelta, every: timedelta, at: datetime) -> bool:
    """Take ``name`` unless another janitor holds it or it ran less than ``every`` ago."""
    insert_ignore(conn, duties, {"name": name, "runs": 0, "failures": 0}, conflict=("name",))
    result = conn.execute(
        update(duties)
        .where(
            duties.c.name == name,
            or_(duties.c.lease_until.is_(None), duties.c.lease_until < at),
            or_(duties.c.last_started.is_(None), duties.c.last_started <= at - every),
        )
        .values(owner=owner, lease_until=at + lease, last_started=at)
    )
    return result.rowcount == 1


def finish(conn: Connection, name: str, owner: str, duration: float, error: str | None) -> None:
    """Release the duty and record how its run went."""
    conn.execute(
        update(duties)
        .where(duties.c.name == name, duties.c.owner == owner)
        .values(
            lease_until=None,
            last_finished=datetime.now(UTC),
            last_duration=duration,
            last_error=error[:2000] if error else None,
            runs=duties.c.runs + 1,
            failures=duties.c.failures + (1 if error else 0),
        )
    )


def runs(conn: Connection) -> list[DutyRun]:
    rows = conn.execute(select(duties).order_by(duties.c.name))
    return [
        DutyRun(r.name, as_utc(r.last_started), as_utc(r.last_finished), r.last_duration, int(r.runs), int(r.failures))
        for r in rows
    ]
