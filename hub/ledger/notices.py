"""Notices owed to customers: one row per (refund, step, channel), written with the state change
it tells of, and what actually went out (subject, body, reference) once it did.

The unique (refund, step, channel) key makes scheduling idempotent: a retried decision, a
re-driven job or a duplicate click never owes the customer a second "approved" e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from hub.db.tables import refunds
from hub.db.tables_customer import notices
from hub.db.upsert import insert_ignore
from hub.ledger import outbox
from hub.ledger.outbox import JobKind

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"


@dataclass(frozen=True)
class Notice:
    id: int
    refund_id: str
    step: str
    channel: str
    state: str
    attempts: int
    subject: str | None
    body: str | None
    reference: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _of(row: object) -> Notice:
    return Notice(**{c.name: getattr(row, c.name) for c in notices.columns})


def schedule(conn: Connection, refund_id: str, step: str, channels: tuple[str, ...]) -> list[int]:
    """A pending notice (and its job) per channel not yet owed for this step; the new rows' ids.

    Only a refund a customer asked for is told: a refund the merchant made on the platform (a
    recorded one the hub pays out) is the platform's to announce, and a tender's part is told
    through its refund."""
    kind = conn.execute(select(refunds.c.kind).where(refunds.c.id == refund_id)).scalar_one_or_none()
    if kind != "requested":
        return []
    made = []
    for channel in channels:
        created = insert_ignore(
            conn,
            notices,
            {
                "refund_id": refund_id,
                "step": step,
                "channel": channel,
                "state": PENDING,
                "attempts": 0,
                "created_at": datetime.now(UTC),
            },
            conflict=("refund_id", "step", "channel"),
        )
        if not created:
            continue
        notice_id = conn.execute(
            select(notices.c.id).where(
                notices.c.refund_id == refund_id, notices.c.step == step, notices.c.channel == channel
            )
        ).scalar_one()
        outbox.add(conn, JobKind.NOTICE, str(notice_id))
        made.append(int(notice_id))
    return made


def get(conn: Connection, notice_id: int) -> Notice | None:
    row = conn.execute(select(notices).where(notices.c.id == notice_id)).first()
    return _of(row) if row is not None else None


def of_refund(conn: Connection, refund_id: str) -> list[Notice]:
    rows = conn.execute(select(notices).where(notices.c.refund_id == refund_id).order_by(notices.c.id)).all()
    return [_of(r) for r in rows]


def sent(conn: Connection, notice_id: int, *, subject: str, body: str, reference: str | None) -> bool:
    """Record what went out; False if the notice was settled already (nothing changes then)."""
    result = conn.execute(
        update(notices)
        .where(notices.c.id == notice_id, notices.c.state.in_((PENDING, FAILED)))
        .values(
            state=SENT,
            subject=subject,
            body=body,
            reference=reference,
            last_error=None,
            sent_at=datetime.now(UTC),
            attempts=notices.c.attempts + 1,
        )
    )
    return result.rowcount == 1


def failed(conn: Connection, notice_id: int, error: str, *, final: bool) -> None:
    """An attempt that did not go out: ``final`` stops retrying (the job gives up), else it stays pending."""
    conn.execute(
        update(notices)
        .where(notices.c.id == notice_id, notices.c.state.in_((PENDING, FAILED)))
        .values(state=FAILED if final else PENDING, last_error=error[:2000], attempts=notices.c.attempts + 1)
    )


def skipped(conn: Connection, notice_id: int, why: str) -> None:
    """No way to reach the customer on this channel (no platform channel, no address): nothing sent."""
    conn.execute(
        update(notices)
        .where(notices.c.id == notice_id, notices.c.state == PENDING)
        .values(state=SKIPPED, last_error=why[:2000])
    )
