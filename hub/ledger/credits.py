"""Alternatives issued on the platform (store credit, a customer-bound coupon): one row per
refund, whose id is the idempotency key the platform call carries.

Accepting writes the row (``issuing``) in the same transaction as the acceptance, so a second
click finds it and issues nothing new; the ``credit`` job issues it and records the platform's
reference, or ``unknown`` when the answer was lost (the next attempt looks for it by its key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from hub.db.tables_customer import credits
from hub.db.upsert import insert_ignore

ISSUING, ISSUED, UNKNOWN, FAILED = "issuing", "issued", "unknown", "failed"


@dataclass(frozen=True)
class Credit:
    id: str
    refund_id: str
    kind: str
    amount: int
    bonus: int
    currency: str
    state: str
    reference: str | None
    code: str | None
    accepted_by: str
    last_error: str | None
    created_at: datetime
    updated_at: datetime


def _of(row: object) -> Credit:
    return Credit(**{c.name: getattr(row, c.name) for c in credits.columns})


def open_credit(
    conn: Connection, refund_id: str, *, kind: str, amount: int, bonus: int, currency: str, accepted_by: str
) -> tuple[Credit, bool]:
    """The refund's alternative, created unless it exists already; (credit, created)."""
    at = datetime.now(UTC)
    created = insert_ignore(
        conn,
        credits,
        {
            "id": f"cr_{uuid.uuid4().hex[:24]}",
            "refund_id": refund_id,
            "kind": kind,
            "amount": amount,
            "bonus": bonus,
            "currency": currency,
            "state": ISSUING,
            "accepted_by": accepted_by,
            "created_at": at,
            "updated_at": at,
        },
        conflict=("refund_id",),
    )
    found = of_refund(conn, refund_id)
    assert found is not None
    return found, created


def of_refund(conn: Connection, refund_id: str) -> Credit | None:
    row = conn.execute(select(credits).where(credits.c.refund_id == refund_id)).first()
    return _of(row) if row is not None else None


def settle(
    conn: Connection,
    credit_id: str,
    state: str,
    *,
    reference: str | None = None,
    code: str | None = None,
    kind: str | None = None,
    error: str | None = None,
) -> bool:
    """Record how issuing went (``kind``: what the platform issued, where it chose — a Shopify
    store that gives gift cards for store credit); an issued credit never changes again (False then)."""
    values: dict[str, object] = {"state": state, "updated_at": datetime.now(UTC), "last_error": error}
    if reference is not None:
        values["reference"] = reference
    if code is not None:
        values["code"] = code
    if kind is not None:
        values["kind"] = kind
    result = conn.execute(update(credits).where(credits.c.id == credit_id, credits.c.state != ISSUED).values(**values))
    return result.rowcount == 1
