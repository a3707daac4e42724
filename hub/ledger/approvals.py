"""Approvals of a refund in review, one per approver: above a store's threshold a refund needs
two different approvers (maker-checker) before its money moves."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from hub.db.tables import approvals
from hub.db.upsert import upsert


def record(conn: Connection, refund_id: str, approver: str, amount: int) -> None:
    values = {"refund_id": refund_id, "user_id": approver, "amount": amount, "at": datetime.now(UTC)}
    upsert(conn, approvals, values, conflict=("refund_id", "user_id"))


def of(conn: Connection, refund_id: str) -> dict[str, int]:
    """Approver → the amount they approved."""
    rows = conn.execute(select(approvals.c.user_id, approvals.c.amount).where(approvals.c.refund_id == refund_id))
    return {r.user_id: int(r.amount) for r in rows}


def clear(conn: Connection, refund_id: str) -> None:
    conn.execute(delete(approvals).where(approvals.c.refund_id == refund_id))
