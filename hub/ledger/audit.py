"""The append-only audit trail (the database refuses UPDATE and DELETE on it).

Secrets never reach it: values under keys that look like credentials are scrubbed, and
card-like digit runs are masked, before anything is written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert

from hub.db.tables import audit

SECRET_KEY = re.compile(r"(secret|token|password|api[_-]?key|authorization|signature|hmac|credential)", re.I)
CARD_NUMBER = re.compile(r"\b\d{13,19}\b")


def scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "[scrubbed]" if SECRET_KEY.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return CARD_NUMBER.sub("[number]", value)
    return value


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
