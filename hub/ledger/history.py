"""What the ledger tells the policy about a customer: earlier refunds by customer, email or
payment instrument within the policy's lookback, and whether the payment is under dispute."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select

from hub.db.tables import payments, refunds
from hub.ledger.refunds import as_utc


def build_history(conn: Connection, refund: Any, lookback_days: int, at: datetime) -> Any:
    from hub.policy import History, PriorRefund

    matches = []
    if refund.customer_id:
        matches.append(refunds.c.customer_id == refund.customer_id)
    if refund.customer_email:
        matches.append(refunds.c.customer_email == refund.customer_email)
    if refund.payment_fingerprint:
        matches.append(refunds.c.payment_fingerprint == refund.payment_fingerprint)
    prior: list[Any] = []
    if matches:
        rows = conn.execute(
            select(
                refunds.c.id,
                refunds.c.order_id,
                refunds.c.customer_id,
                refunds.c.customer_email,
                refunds.c.payment_fingerprint,
                refunds.c.amount,
                refunds.c.currency,
                refunds.c.state,
                refunds.c.created_at,
            )
            .where(
                refunds.c.store_id == refund.store_id,
                refunds.c.id != refund.id,
                or_(*matches),
                refunds.c.created_at >= at - timedelta(days=lookback_days),
            )
            .order_by(refunds.c.created_at.desc())
            .limit(1000)
        ).all()
        prior = [
            PriorRefund(
                refund_id=r.id,
                order_id=r.order_id,
                customer_id=r.customer_id,
                email=r.customer_email,
                payment_fingerprint=r.payment_fingerprint,
                amount=r.amount,
                currency=r.currency,
                state=r.state,
                created_at=as_utc(r.created_at) or at,
            )
            for r in rows
        ]
    disputed = False
    if refund.payment_id is not None:
        disputed = bool(conn.execute(select(payments.c.disputed).where(payments.c.id == refund.payment_id)).scalar())
    return History(prior_refunds=tuple(prior), payment_disputed=disputed)
