"""What customers said after their refund: a rating, a comment, and their own reason if the one
on record was wrong. One answer per refund; answering again replaces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from hub.db.tables import refunds
from hub.db.tables_customer import feedback
from hub.db.upsert import upsert


@dataclass(frozen=True)
class Feedback:
    refund_id: str
    rating: int
    comment: str
    reason: str | None
    created_at: datetime


def save(conn: Connection, refund_id: str, *, rating: int, comment: str, reason: str | None) -> None:
    upsert(
        conn,
        feedback,
        {
            "refund_id": refund_id,
            "rating": rating,
            "comment": comment,
            "reason": reason,
            "detail": None,
            "created_at": datetime.now(UTC),
        },
        conflict=("refund_id",),
    )


def of_refund(conn: Connection, refund_id: str) -> Feedback | None:
    row = conn.execute(select(feedback).where(feedback.c.refund_id == refund_id)).first()
    if row is None:
        return None
    return Feedback(row.refund_id, row.rating, row.comment, row.reason, row.created_at)


def summary(conn: Connection, connector: str, store_id: str) -> dict[str, Any]:
    """Answers, mean rating and reason corrections of a store (for analytics)."""
    joined = feedback.join(refunds, refunds.c.id == feedback.c.refund_id)
    where = (refunds.c.connector == connector, refunds.c.store_id == store_id)
    count, mean = conn.execute(
        select(func.count(), func.avg(feedback.c.rating)).select_from(joined).where(*where)
    ).one()
    corrected = conn.execute(
        select(func.count()).select_from(joined).where(*where, feedback.c.reason.is_not(None))
    ).scalar_one()
    return {
        "answers": int(count),
        "mean_rating": float(mean) if mean is not None else None,
        "corrected": int(corrected),
    }
