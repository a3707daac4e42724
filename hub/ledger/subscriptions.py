"""Outgoing webhook endpoints in the ledger: what merchants subscribe (a store, or every store),
to which events, signed with which sealed secrets, and whether they are on. The events are
``hub.ledger.webhook_events``; what the sender owes each endpoint ``hub.ledger.webhook_deliveries``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hub.db.tables_outgoing import webhook_endpoints
from hub.ledger import outbox
from hub.ledger.records import from_row

ALL = "*"


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


def _now() -> datetime:
    return datetime.now(UTC)


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
