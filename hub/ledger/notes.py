"""What a person adds to a refund in the console without deciding it: a note for the team, and
taking the refund ("assign to me") so two reviewers do not work the same one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, update

from hub.db.tables import refund_notes, refunds
from hub.ledger import audit

MAX_NOTE = 4000


def add_note(conn: Connection, refund_id: str, user_id: str, actor: str, body: str) -> None:
    """A note on the refund (kept, and in the audit trail)."""
    body = body.strip()
    if not body:
        raise ValueError("a note needs some text")
    if len(body) > MAX_NOTE:
        raise ValueError(f"a note is at most {MAX_NOTE} characters")
    conn.execute(insert(refund_notes).values(refund_id=refund_id, user_id=user_id, body=body, at=datetime.now(UTC)))
    audit.write(conn, actor, "noted", refund_id=refund_id, note=body)


def assign(conn: Connection, refund_id: str, user_id: str | None, actor: str) -> bool:
    """The refund is worked by ``user_id`` (None: by nobody); False when there is no such refund."""
    moved = conn.execute(
        update(refunds).where(refunds.c.id == refund_id).values(assigned_to=user_id, updated_at=datetime.now(UTC))
    ).rowcount
    if moved:
        audit.write(conn, actor, "assigned", refund_id=refund_id, to=user_id)
    return bool(moved)
