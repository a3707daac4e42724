"""What the sender owes each endpoint, and its bookkeeping: one sender per endpoint at a time
(a lease on the endpoint's row), oldest delivery first, every attempt kept, the endpoint backed off
as a whole after a failure; what the API shows, replay, and pruning what was delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, insert, or_, select, update

from hub.db.tables_outgoing import webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_messages
from hub.ledger import outbox
from hub.ledger.records import as_utc, from_row
from hub.ledger.subscriptions import Endpoint, endpoint

PENDING, SUCCEEDED = "pending", "succeeded"


@dataclass(frozen=True, slots=True)
class Pending:
    """The next delivery an endpoint owes: the message's id and its exact body."""

    id: int
    message_id: str
    event_type: str
    body: str
    attempts: int


_OWES = exists().where(
    webhook_deliveries.c.endpoint_id == webhook_endpoints.c.id, webhook_deliveries.c.state == PENDING
)


def _ready(at: Any) -> Any:
    return and_(
        webhook_endpoints.c.enabled,
        or_(webhook_endpoints.c.next_attempt_at.is_(None), webhook_endpoints.c.next_attempt_at <= at),
        or_(webhook_endpoints.c.lease_until.is_(None), webhook_endpoints.c.lease_until < at),
    )


def due(conn: Connection, at: datetime) -> list[str]:
    """Endpoints that owe deliveries and may be tried now."""
    query = select(webhook_endpoints.c.id).where(_ready(at), _OWES).order_by(webhook_endpoints.c.id)
    return [r[0] for r in conn.execute(query)]


def claim(conn: Connection, endpoint_id: str, at: datetime, lease: timedelta) -> Endpoint | None:
    """Hold the endpoint until ``at + lease`` if it may be tried now; None: not now, or taken."""
    taken = conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id, _ready(at))
        .values(lease_until=at + lease)
    ).rowcount
    return endpoint(conn, endpoint_id) if taken else None


def release(conn: Connection, endpoint_id: str) -> None:
    conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(lease_until=None))


def next_pending(conn: Connection, endpoint_id: str) -> Pending | None:
    row = conn.execute(
        select(
            webhook_deliveries.c.id,
            webhook_deliveries.c.message_id,
            webhook_messages.c.event_type,
            webhook_messages.c.body,
            webhook_deliveries.c.attempts,
        )
        .join(webhook_messages, webhook_messages.c.id == webhook_deliveries.c.message_id)
        .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
        .where(webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.state == PENDING)
        .where(webhook_endpoints.c.enabled)  # switched off by a person meanwhile: stop
        .order_by(webhook_deliveries.c.id)
        .limit(1)
    ).first()
    return from_row(Pending, row) if row is not None else None


@dataclass(frozen=True)
class Attempt:
    """One try at one delivery, as the sender saw it."""

    at: datetime
    status: int | None
    error: str | None
    response: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def record_attempt(conn: Connection, delivery: Pending, endpoint_id: str, attempt: Attempt) -> None:
    """The attempt, and the delivery's state after it (the endpoint's is ``succeeded``/``failed``)."""
    conn.execute(
        insert(webhook_attempts).values(
            delivery_id=delivery.id,
            at=attempt.at,
            status=attempt.status,
            error=attempt.error,
            response=attempt.response,
            duration_ms=attempt.duration_ms,
        )
    )
    values: dict[str, Any] = {
        "attempts": webhook_deliveries.c.attempts + 1,
        "last_status": attempt.status,
        "last_error": attempt.error,
    }
    if attempt.ok:
        values.update(state=SUCCEEDED, delivered_at=attempt.at)
    conn.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == delivery.id).values(**values))


def succeeded(conn: Connection, endpoint_id: str, at: datetime, lease: timedelta) -> None:
    """The endpoint answered: its failure run is over; the lease is renewed for the next one."""
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(failures=0, next_attempt_at=None, lease_until=at + lease)
    )


def failed(conn: Connection, endpoint_id: str) -> int:
    """One more failure in the endpoint's run, the lease let go; returns the run's length."""
    statement = update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    conn.execute(statement.values(failures=webhook_endpoints.c.failures + 1, lease_until=None))
    query = select(webhook_endpoints.c.failures).where(webhook_endpoints.c.id == endpoint_id)
    return int(conn.execute(query).scalar_one())


def wait_until(conn: Connection, endpoint_id: str, retry_at: datetime) -> None:
    """The endpoint is not tried again before ``retry_at``."""
    statement = update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    conn.execute(statement.values(next_attempt_at=retry_at))


# --- what the API shows, and replay -------------------------------------------------------


def deliveries(conn: Connection, endpoint_id: str, limit: int = 100, state: str | None = None) -> list[dict[str, Any]]:
    """The endpoint's newest deliveries, each with its attempts (oldest attempt first)."""
    query = (
        select(webhook_deliveries, webhook_messages.c.event_type, webhook_messages.c.refund_id)
        .join(webhook_messages, webhook_messages.c.id == webhook_deliveries.c.message_id)
        .where(webhook_deliveries.c.endpoint_id == endpoint_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(webhook_deliveries.c.state == state)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    ids = [r["id"] for r in rows]
    tries: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for a in conn.execute(
            select(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(ids)).order_by(webhook_attempts.c.id)
        ):
            tries[a.delivery_id].append(
                {"at": as_utc(a.at).isoformat(), "status": a.status, "error": a.error, "duration_ms": a.duration_ms}  # type: ignore[union-attr]
            )
    for r in rows:
        r["attempt_log"] = tries[r["id"]]
        for key in ("created_at", "delivered_at"):
            r[key] = as_utc(r[key]).isoformat() if r[key] else None  # type: ignore[union-attr]
    return rows


def replay(conn: Connection, endpoint_id: str, delivery_id: int | None = None, since: datetime | None = None) -> int:
    """Send again (with the same webhook-id, so a receiver that has it can tell): one delivery,
    or every delivery of the endpoint created since ``since``. Returns how many were requeued."""
    statement = update(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
    if delivery_id is not None:
        statement = statement.where(webhook_deliveries.c.id == delivery_id)
    if since is not None:
        statement = statement.where(webhook_deliveries.c.created_at >= since)
    moved = int(conn.execute(statement.values(state=PENDING, delivered_at=None)).rowcount)
    if moved:
        outbox.ensure(conn, outbox.JobKind.WEBHOOK, endpoint_id)
    return moved


def owed(conn: Connection, endpoint_id: str) -> int:
    query = select(func.count()).where(
        webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.state == PENDING
    )
    return int(conn.execute(query).scalar_one())


def prune(conn: Connection, older_than: datetime) -> int:
    """Delivered deliveries created before ``older_than``, their attempts, and messages nobody is
    owed any more (a pending delivery keeps its message, however old)."""
    done = select(webhook_deliveries.c.id).where(
        webhook_deliveries.c.state == SUCCEEDED, webhook_deliveries.c.created_at < older_than
    )
    conn.execute(webhook_attempts.delete().where(webhook_attempts.c.delivery_id.in_(done)))
    removed = int(conn.execute(webhook_deliveries.delete().where(webhook_deliveries.c.id.in_(done))).rowcount)
    kept = select(webhook_deliveries.c.message_id).where(webhook_deliveries.c.message_id == webhook_messages.c.id)
    orphans = webhook_messages.delete().where(webhook_messages.c.created_at < older_than, ~kept.exists())
    return removed + int(conn.execute(orphans).rowcount)
