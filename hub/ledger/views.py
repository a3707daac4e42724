"""Read models for the JSON API, the console and the CLI: what a person looks at, in one place.

Each view reads in its own short transaction shape (the caller's ``read`` unit) and returns
records, never rows, so the web layer holds no SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from hub.db.tables import audit, refunds
from hub.db.tables import deliveries as deliveries_table
from hub.ledger.people import ALL_STORES, StoreScope
from hub.ledger.records import AuditEntry, DeliverySummary, Refund, from_row

MAX_PAGE = 500


def refund_list(
    conn: Connection,
    *,
    limit: int,
    state: str | None = None,
    store_id: str | None = None,
    scope: StoreScope = ALL_STORES,
) -> list[Refund]:
    """Refunds newest first within ``scope``, optionally of one state or store; at most ``MAX_PAGE``."""
    query = (
        select(refunds)
        .where(scope.clause(refunds.c.connector, refunds.c.store_id))
        .order_by(refunds.c.created_at.desc())
        .limit(min(limit, MAX_PAGE))
    )
    if state is not None:
        query = query.where(refunds.c.state == state)
    if store_id is not None:
        query = query.where(refunds.c.store_id == store_id)
    return [from_row(Refund, row) for row in conn.execute(query)]


def trail(conn: Connection, refund_id: str) -> list[AuditEntry]:
    """The refund's audit trail, oldest first."""
    rows = conn.execute(select(audit).where(audit.c.refund_id == refund_id).order_by(audit.c.id))
    return [from_row(AuditEntry, row) for row in rows]


def refund_with_trail(
    conn: Connection, refund_id: str, scope: StoreScope = ALL_STORES
) -> tuple[Refund, Sequence[AuditEntry]] | None:
    """The refund and its trail; None if there is none — or none the scope may see (the same
    answer: another tenant's refund does not exist for you)."""
    row = conn.execute(
        select(refunds).where(refunds.c.id == refund_id, scope.clause(refunds.c.connector, refunds.c.store_id))
    ).first()
    if row is None:
        return None
    return from_row(Refund, row), trail(conn, refund_id)


def delivery_list(
    conn: Connection, status: str, limit: int, scope: StoreScope = ALL_STORES
) -> list[DeliverySummary]:
    """Deliveries in ``status`` (dead letters by default in the API) within ``scope``, newest first."""
    d = deliveries_table
    rows = conn.execute(
        select(d.c.id, d.c.connector, d.c.store_id, d.c.topic, d.c.status, d.c.error, d.c.received_at)
        .where(d.c.status == status, scope.clause(d.c.connector, d.c.store_id))
        .order_by(d.c.received_at.desc())
        .limit(min(limit, MAX_PAGE))
    )
    return [from_row(DeliverySummary, row) for row in rows]


def delivery_visible(conn: Connection, delivery_id: str, scope: StoreScope) -> bool:
    d = deliveries_table
    found = conn.execute(
        select(d.c.id).where(d.c.id == delivery_id, scope.clause(d.c.connector, d.c.store_id))
    ).first()
    return found is not None
