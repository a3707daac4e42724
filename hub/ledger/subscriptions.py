"""Outgoing webhooks in the ledger: the endpoints merchants subscribe, the fan-out of audited
refund changes into messages and deliveries (called by ``hub.ledger.audit.write`` inside the
ledger transaction: a durable outbox, exactly once with the change), and the bookkeeping of the
sender (``hub.outgoing.sender``): one sender per endpoint at a time, oldest delivery first, the
endpoint backs off as a whole and is disabled after a run of failures.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, update

from hub.db.tables import refunds
from hub.db.tables_outgoing import webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_messages
from hub.ledger import outbox
from hub.ledger.records import as_utc, from_row

PENDING, SUCCEEDED = "pending", "succeeded"
EVENT_TYPES = (
    "refund.requested",
    "refund.decided",
    "refund.succeeded",
    "refund.failed",
    "refund.written_back",
    "refund.alternative_issued",
    "refund.dispute_opened",
    "webhook.endpoint_disabled",
)
ALL = "*"
DISPUTED = ("held_for_dispute", "dispute_while_executing")  # a dispute event reached a refund (hub.pipeline.disputes)


def event_types(action: str, detail: Mapping[str, Any]) -> tuple[str, ...]:
    """The events an audit entry stands for (most stand for none)."""
    if action == "requested":
        return ("refund.requested",)
    if action in ("decided", "reviewed"):
        found = ["refund.decided"]
        if detail.get("state") == "offered":
            found.append("refund.alternative_issued")
        if "hard.dispute" in (detail.get("rules") or ()) or "dispute" in detail:
            found.append("refund.dispute_opened")  # the policy's dispute rule, or a disputed tender held it
        return tuple(found)
    if action == "executor_result" and detail.get("applied"):
        outcome = detail.get("outcome")
        return (f"refund.{outcome}",) if outcome in ("succeeded", "failed") else ()
    if action == "written_back":
        return ("refund.written_back",)
    if action in DISPUTED:
        return ("refund.dispute_opened",)
    if action == "webhook_endpoint_disabled":
        return ("webhook.endpoint_disabled",)
    return ()


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    store_id: str
    url: str
    description: str
    events: list[str]
    secrets: str  # sealed
    previous_until: datetime | None
    enabled: bool
    disabled_reason: str | None
    failure_limit: int | None
    failures: int
    next_attempt_at: datetime | None
    lease_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str) -> bool:
        return ALL in self.events or event_type in self.events

    def public(self) -> dict[str, Any]:
        """What the API shows (never the secrets)."""
        return {
            "id": self.id,
            "store_id": self.store_id,
            "url": self.url,
            "description": self.description,
            "events": list(self.events),
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "failure_limit": self.failure_limit,
            "failures": self.failures,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "rotating_until": self.previous_until.isoformat() if self.previous_until else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Pending:
    """The next delivery an endpoint owes: the message's id and its exact body."""

    id: int
    message_id: str
    event_type: str
    body: str
    attempts: int


def _now() -> datetime:
    return datetime.now(UTC)


# --- endpoints --------------------------------------------------------------------------


def create_endpoint(
    conn: Connection,
    store_id: str,
    url: str,
    events: Sequence[str],
    sealed_secrets: str,
    *,
    description: str = "",
    failure_limit: int | None = None,
) -> str:
    at, endpoint_id = _now(), f"ep_{uuid.uuid4().hex[:24]}"
    conn.execute(
        insert(webhook_endpoints).values(
            id=endpoint_id,
            store_id=store_id,
            url=url,
            description=description,
            events=list(events),
            secrets=sealed_secrets,
            enabled=True,
            failure_limit=failure_limit,
            failures=0,
            created_at=at,
            updated_at=at,
        )
    )
    return endpoint_id


def endpoint(conn: Connection, endpoint_id: str) -> Endpoint | None:
    row = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)).first()
    return from_row(Endpoint, row) if row is not None else None


def endpoints(conn: Connection, store_ids: Sequence[str] | None = None) -> list[Endpoint]:
    """Every endpoint, or those of ``store_ids`` (an all-stores endpoint belongs to none of them)."""
    query = select(webhook_endpoints).order_by(webhook_endpoints.c.created_at)
    if store_ids is not None:
        query = query.where(webhook_endpoints.c.store_id.in_(list(store_ids)))
    return [from_row(Endpoint, r) for r in conn.execute(query)]


def change_endpoint(conn: Connection, endpoint_id: str, **values: Any) -> bool:
    """Set url, description, events, failure_limit or secrets (a rotation sets ``previous_until``)."""
    allowed = {"url", "description", "events", "failure_limit", "secrets", "previous_until"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    statement = update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    return bool(conn.execute(statement.values(**values, updated_at=_now())).rowcount)


def enable(conn: Connection, endpoint_id: str) -> bool:
    """Back on: the failure run starts over and what it owes is sent at once, oldest first."""
    statement = update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    values = {"enabled": True, "disabled_reason": None, "failures": 0, "next_attempt_at": None, "updated_at": _now()}
    moved = bool(conn.execute(statement.values(**values)).rowcount)
    if moved:
        outbox.ensure(conn, outbox.JobKind.WEBHOOK, endpoint_id)
    return moved


def disable(conn: Connection, endpoint_id: str, reason: str) -> bool:
    statement = update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.enabled)
    return bool(conn.execute(statement.values(enabled=False, disabled_reason=reason, updated_at=_now())).rowcount)


# --- fan-out (inside the audit write) ---------------------------------------------------

_SUBSCRIBED = select(webhook_endpoints).where(
    webhook_endpoints.c.enabled, webhook_endpoints.c.store_id.in_([bindparam("store_id"), ALL])
)
_SNAPSHOT = select(
    refunds.c.id,
    refunds.c.connector,
    refunds.c.store_id,
    refunds.c.order_id,
    refunds.c.source_ref,
    refunds.c.kind,
    refunds.c.state,
    refunds.c.money_moved,
    refunds.c.amount,
    refunds.c.approved_amount,
    refunds.c.currency,
    refunds.c.route,
    refunds.c.gateway_refund_id,
).where(refunds.c.id == bindparam("id"))


def fan_out(conn: Connection, entry: Mapping[str, Any]) -> int:
    """Messages and deliveries for the events ``entry`` stands for, to every endpoint of its
    store that subscribes to them; a job per endpoint wakes a sender. Returns deliveries added."""
    types = event_types(entry["action"], entry["detail"])
    if not types:
        return 0
    subscribed = [from_row(Endpoint, r) for r in conn.execute(_SUBSCRIBED, {"store_id": entry["chain"]})]
    if not subscribed:
        return 0
    refund = _snapshot(conn, entry.get("refund_id"))
    added = 0
    for event_type in types:
        targets = [e for e in subscribed if e.wants(event_type)]
        if targets:
            message_id = _message(conn, event_type, entry, refund)
            for target in targets:
                conn.execute(_DELIVERY, {"message_id": message_id, "endpoint_id": target.id, "at": _now()})
                outbox.ensure(conn, outbox.JobKind.WEBHOOK, target.id)
                added += 1
    return added


_DELIVERY = insert(webhook_deliveries).values(
    message_id=bindparam("message_id"),
    endpoint_id=bindparam("endpoint_id"),
    state=PENDING,
    attempts=0,
    created_at=bindparam("at"),
)


def _snapshot(conn: Connection, refund_id: str | None) -> dict[str, Any] | None:
    if not refund_id:
        return None
    row = conn.execute(_SNAPSHOT, {"id": refund_id}).first()
    return dict(row._mapping) if row is not None else None


def _message(conn: Connection, event_type: str, entry: Mapping[str, Any], refund: dict[str, Any] | None) -> str:
    """The message's exact body (what is signed and sent, the same on every attempt)."""
    message_id = f"msg_{uuid.uuid4().hex}"
    data: dict[str, Any] = {
        "store_id": entry["chain"],
        "refund": refund,
        "audit": {
            "id": entry["id"],
            "seq": entry["seq"],
            "hash": entry["hash"],
            "actor": entry["actor"],
            "action": entry["action"],
            "detail": entry["detail"],
        },
    }
    body = json.dumps({"type": event_type, "timestamp": entry["at"], "data": data}, separators=(",", ":"))
    conn.execute(
        insert(webhook_messages).values(
            id=message_id,
            event_type=event_type,
            store_id=entry["chain"],
            refund_id=entry.get("refund_id"),
            audit_id=entry["id"],
            body=body,
            created_at=_now(),
        )
    )
    return message_id


# --- the sender's bookkeeping -----------------------------------------------------------

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
        .where(webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.state == PENDING)
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
