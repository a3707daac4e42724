"""The append-only audit trail (the database refuses UPDATE and DELETE on it).

Secrets and personal data never reach it (``hub.ledger.scrub``): fields that hold them are
replaced and credentials in texts masked before anything is written; ids stay as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert

from hub.db.tables import audit
from hub.ledger.scrub import scrub


def write(
    conn: Connection,
    actor: str,
    action: str,
    *,
    refund_id: str | None = None,
    delivery_id: str | None = None,
    **detail: Any,
) -> None:
    conn.execute(
        _INSERT,
        {
            "at": datetime.now(UTC),
            "actor": actor,
            "action": action,
            "refund_id": refund_id,
            "delivery_id": delivery_id,
            "detail": scrub(detail),
        },
    )


_INSERT = insert(audit)  # values travel as parameters: one statement, compiled once
