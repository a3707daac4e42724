"""Stored deliveries after ingest: read one, mark it processed or dead, queue it again, prune.

Ingest itself (``hub.ingest``) writes new deliveries on its own hot path; everything that
happens to a delivery afterwards goes through here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select, update

from hub.db.tables import deliveries
from hub.ledger.records import Delivery, from_row

# received -> done | ignored | dead (parse failed: kept, visible, replayable) | ack (a ping)
RECEIVED, DONE, IGNORED, DEAD, ACK = "received", "done", "ignored", "dead", "ack"

_GET = select(deliveries).where(deliveries.c.id == bindparam("delivery_id"))


def get(conn: Connection, delivery_id: str) -> Delivery | None:
    row = conn.execute(_GET, {"delivery_id": delivery_id}).first()
    return from_row(Delivery, row) if row is not None else None


def mark_done(conn: Connection, delivery_id: str) -> None:
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status=DONE, processed_at=datetime.now(UTC), error=None)
    )


def mark_dead(conn: Connection, delivery_id: str, reason: str) -> None:
    """Kept with the reason, visible and replayable (invariant 4)."""
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status=DEAD, error=reason[:2000], processed_at=datetime.now(UTC))
    )


def requeue(conn: Connection, delivery_id: str) -> bool:
    """Put a processed (or dead) delivery back to ``received``; False if unknown or already queued."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status != RECEIVED)
        .values(status=RECEIVED, error=None)
    )
    return result.rowcount == 1


def prune(conn: Connection, older_than: datetime, dead_older_than: datetime) -> int:
    """Forget processed deliveries past retention and dead letters past theirs (their raw bodies
    hold personal data too); deliveries not yet processed always stay."""
    processed = conn.execute(
        deliveries.delete().where(deliveries.c.received_at < older_than, deliveries.c.status.notin_((RECEIVED, DEAD)))
    ).rowcount
    dead = conn.execute(
        deliveries.delete().where(deliveries.c.received_at < dead_older_than, deliveries.c.status == DEAD)
    ).rowcount
    return int(processed) + int(dead)
