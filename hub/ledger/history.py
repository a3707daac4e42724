"""What the ledger tells the policy about a customer: earlier refunds by customer, email or
payment instrument within the policy's lookback, and whether the payment is under dispute."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select

from hub.db.tables import refunds
from hub.ledger.disputes import held_on
from hub.ledger.payments import is_disputed
from hub.ledger.records import as_utc
from hub.models import RefundRequest

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
    # the gateway's flag (read at decide) or a dispute its webhooks reported that still holds
    payment_id = refund.payment_id
    disputed = payment_id is not None and (is_disputed(conn, payment_id) or held_on(conn, payment_id))
    count, total = customer_figures(refund)
    return History(
        prior_refunds=tuple(prior), payment_disputed=disputed, customer_order_count=count, customer_order_total=total
    )


def customer_figures(refund: Any) -> tuple[int | None, int | None]:
    """The customer's order count and total as the platform reported them in the stored request
    (``customer.order_count``/``order_total``); None where the connector could not say."""
    stored = getattr(refund, "request", None)
    customer = stored.get("customer") if isinstance(stored, dict) else None
    if not isinstance(customer, dict):
        return None, None
    return _count(customer.get("order_count")), _count(customer.get("order_total"))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def decided_since(
    conn: Connection, since: datetime, lookback_days: int, store: tuple[str, str] | None = None
) -> Iterator[Any]:
    """SimulationRecords of every decided refund since ``since``, for ``policy simulate``;
    ``store`` (connector, store id): that store's only, its history within the store as the
    pipeline builds it (the console's simulation and shadow).

    Each record's history is rebuilt in memory from the same rows (earlier refunds by customer,
    email or payment instrument), so the cost per record stays flat however long the history is.
    """
    from hub.policy import Decision, History, SimulationRecord

    start = since - timedelta(days=lookback_days)
    where = [refunds.c.created_at >= start]
    if store is not None:
        where += [refunds.c.connector == store[0], refunds.c.store_id == store[1]]
    rows = conn.execute(
        select(*PRIOR_COLUMNS, refunds.c.decision, refunds.c.request, refunds.c.kind)
        .where(*where)
        .order_by(refunds.c.created_at)
    ).all()
    index: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    priors = [prior_refund(row) for row in rows]
    for position, row in enumerate(rows):
        for key in _keys(row):
            index[key].append((priors[position].created_at, position))
    for position, row in enumerate(rows):
        created = priors[position].created_at
        if created < since or not row.decision or "decision" not in row.decision or row.kind != "requested":
            continue
        earlier: set[int] = set()
        for key in _keys(row):
            series = index[key]
            lo = bisect.bisect_left(series, (created - timedelta(days=lookback_days), -1))
            hi = bisect.bisect_left(series, (created, position))
            earlier.update(p for _, p in series[lo:hi])
        count, total = customer_figures(row)
        history = History(
            prior_refunds=tuple(sorted((priors[p] for p in earlier), key=lambda r: r.created_at, reverse=True)),
            customer_order_count=count,
            customer_order_total=total,
        )
        yield SimulationRecord(
            refund_id=row.id,
            request=RefundRequest.model_validate(row.request),
            history=history,
            decided_at=created,
            decision=Decision.from_dict(row.decision["decision"]),
        )


def _keys(row: Any) -> list[str]:
    return [
        f"{k}:{v}" for k, v in (("c", row.customer_id), ("e", row.customer_email), ("p", row.payment_fingerprint)) if v
    ]
