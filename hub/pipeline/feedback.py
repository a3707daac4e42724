"""The customer says how it went: a rating, a comment, and their own reason if the one on record
was wrong. Stored against the refund (one answer, the latest), audited, shown in the console."""

from __future__ import annotations

from hub.ledger import audit, feedback
from hub.ledger.unit import write
from hub.models import ReasonCode
from hub.runtime.bootstrap import Hub


def record(hub: Hub, refund_id: str, rating: int, comment: str, reason: str | None) -> None:
    if not 1 <= rating <= 5:
        raise ValueError("rating must be 1 to 5")
    code = ReasonCode(reason).value if reason else None  # ValueError for an unknown reason
    with write(hub.engine) as conn:
        feedback.save(conn, refund_id, rating=rating, comment=comment.strip()[:2000], reason=code)
        audit.write(conn, "customer", "feedback_received", refund_id=refund_id, rating=rating, reason=code)
