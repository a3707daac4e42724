"""What the ledger tells the policy about a customer: earlier refunds by customer, email or
payment instrument within the policy's lookback, and whether the payment is under dispute."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select

from hub.db.tables import payments, refunds
from hub.ledger.refunds import as_utc

PRIOR_COLUMNS = (
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


def prior_refund(row: Any) -> Any:
    """A ledger row (with ``PRIOR_COLUMNS``) as the policy's ``PriorRefund``."""
    from hub.policy import PriorRefund

    return PriorRefund(
        refund_id=row.id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        email=row.customer_email,
        payment_fingerprint=row.payment_fingerprint,
        amount=row.amount,
        currency=row.currency,
        state=row.state,
        created_at=as_utc(row.created_at) or row.created_at,
    )


def build_history(conn: Connection, refund: Any, lookback_days: int, at: datetime) -> Any:
    from hub.policy import History

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
            select(*PRIOR_COLUMNS)
            .where(
                refunds.c.store_id == refund.store_id,
                refunds.c.id != refund.id,
                or_(*matches),
                refunds.c.created_at >= at - timedelta(days=lookback_days),
            )
            .order_by(refunds.c.created_at.desc())
            .limit(1000)
        ).all()
        prior = [prior_refund(r) for r in rows]
    disputed = False
    if refund.payment_id is not None:
        disputed = bool(conn.execute(select(payments.c.disputed).where(payments.c.id == refund.payment_id)).scalar())
    return History(prior_refunds=tuple(prior), payment_disputed=disputed)
