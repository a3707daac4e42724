"""Disputes the gateways reported, and what they mean for the payments they name.

One row per dispute, so two disputes on one payment, or an older event arriving after a newer
one, cannot release a hold that still applies. The payment's ``disputed`` flag is kept equal
to "some dispute on it holds" whenever a dispute event arrives; the policy's history reads
either fact (a gateway lookup that lags behind its own webhooks must not release a hold).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, Exists, exists, or_, select, update

from hub.contracts import DisputeEvent
from hub.db.tables import payments, refunds
from hub.db.tables_disputes import disputes
from hub.db.upsert import upsert
from hub.ledger.records import Refund, as_utc, from_row
from hub.ledger.refunds import now


def record(conn: Connection, route: str, event: DisputeEvent) -> bool:
    """Store the dispute's new state; False (nothing stored) when a newer state is stored already."""
    stored = conn.execute(
        select(disputes.c.state_at).where(
            disputes.c.route == route,
            disputes.c.dispute_id == event.dispute_id,
            disputes.c.payment_reference == event.payment_reference,
        )
    ).first()
    if stored is not None:
        stored_at = as_utc(stored.state_at)
        if stored_at is not None and event.at is not None and event.at < stored_at:
            return False
    upsert(
        conn,
        disputes,
        {
            "route": route,
            "dispute_id": event.dispute_id,
            "payment_reference": event.payment_reference,
            "state": event.state.value,
            "raw_status": event.raw_status[:64],
            "holds": event.holds,
            "amount": event.amount,
            "currency": event.currency,
            "state_at": event.at,
            "updated_at": now(),
        },
        conflict=("route", "dispute_id", "payment_reference"),
    )
    return True


def _holding(route: Any, reference: Any) -> Exists:
    return exists().where(
        disputes.c.route == route, disputes.c.payment_reference == reference, disputes.c.holds.is_(True)
    )


def holding(conn: Connection, route: str, reference: str) -> bool:
    """Whether any dispute on the payment still holds refunds."""
    return bool(conn.execute(select(_holding(route, reference))).scalar())


def mark_payment(conn: Connection, route: str, reference: str) -> bool:
    """Set the payment's ``disputed`` flag (every store's row of it) from its disputes; returns it."""
    held = holding(conn, route, reference)
    conn.execute(
        update(payments).where(payments.c.route == route, payments.c.reference == reference).values(disputed=held)
    )
    return held


def held_on(conn: Connection, payment_id: int) -> bool:
    """Whether a recorded dispute holds refunds on the payment row ``payment_id``."""
    query = select(_holding(payments.c.route, payments.c.reference)).where(payments.c.id == payment_id)
    return bool(conn.execute(query).scalar())


def refunds_on(conn: Connection, route: str, reference: str, in_states: Collection[str]) -> list[Refund]:
    """The refunds on the payment (any store) that are in one of ``in_states``."""
    rows = conn.execute(
        select(refunds)
        .join(payments, payments.c.id == refunds.c.payment_id)
        .where(payments.c.route == route, payments.c.reference == reference, refunds.c.state.in_(in_states))
        .order_by(refunds.c.created_at)
    )
    return [from_row(Refund, row) for row in rows]


def disputed_refunds(conn: Connection, refund_ids: Iterable[str]) -> set[str]:
    """Of ``refund_ids``, those whose payment is under a dispute that holds (for the read model)."""
    wanted = list(refund_ids)
    if not wanted:
        return set()
    query = (
        select(refunds.c.id)
        .join(payments, payments.c.id == refunds.c.payment_id)
        .where(
            refunds.c.id.in_(wanted),
            or_(payments.c.disputed.is_(True), _holding(payments.c.route, payments.c.reference)),
        )
    )
    return {row.id for row in conn.execute(query)}
