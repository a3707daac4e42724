"""What the customer request page asks the ledger: the history a preview decides with (as the
pipeline builds it, for a request not stored yet), a refund by its source, and look-up throttles
(the login throttle table, under keys of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from hub.db.tables import refunds
from hub.ledger import people
from hub.ledger.history import build_history
from hub.models import RefundRequest
from hub.policy.history import normalize_email, payment_fingerprint


@dataclass(frozen=True)
class _Unstored:
    """A request as ``build_history`` reads a refund row: no id, no payment placed yet."""

    id: str
    store_id: str
    customer_id: str | None
    customer_email: str | None
    payment_fingerprint: str | None
    payment_id: int | None = None


def preview_history(conn: Connection, request: RefundRequest, lookback_days: int, at: datetime) -> Any:
    primary = request.payments[0] if request.payments else None
    probe = _Unstored(
        id="",
        store_id=request.store_id,
        customer_id=request.customer.id,
        customer_email=normalize_email(request.customer.email),
        payment_fingerprint=payment_fingerprint(primary) if primary else None,
    )
    return build_history(conn, probe, lookback_days, at)


def refund_by_source(conn: Connection, connector: str, store_id: str, source_ref: str) -> str | None:
    return conn.execute(
        select(refunds.c.id).where(
            refunds.c.connector == connector, refunds.c.store_id == store_id, refunds.c.source_ref == source_ref
        )
    ).scalar_one_or_none()


def over_limit(conn: Connection, keys: list[str], limit: int, window: timedelta) -> bool:
    """Count one attempt under every key; True when any of them went over ``limit`` in ``window``."""
    counts = [people.count_attempt(conn, f"customer:{key}", window) for key in keys]
    return any(count > limit for count in counts)
