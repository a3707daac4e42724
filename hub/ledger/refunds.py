"""Refund rows: find-or-create by source, compare-and-set transitions, the balance reservation.

Invariant 2 lives in ``reserve``: under a lock on the payment (PostgreSQL row lock; SQLite's
``BEGIN IMMEDIATE`` write lock), the amounts of every refund that holds money on the payment
plus the new one must stay within what was captured, and nothing new starts while an earlier
refund on the payment is in doubt.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update
from sqlalchemy.sql.dml import Update

from hub.db.tables import payments, refunds
from hub.db.upsert import insert_ignore
from hub.errors import IllegalTransition, OverRefund, PaymentBusy
from hub.ledger import states
from hub.models import Payment, RefundRequest
from hub.policy.history import normalize_email, payment_fingerprint


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def new_refund_id() -> str:
    return f"rf_{uuid.uuid4().hex[:24]}"


def idempotency_key_for(refund_id: str) -> str:
    """One key per logical refund, fixed before the first gateway call (≤ 45 chars for Square)."""
    return f"rh-{refund_id}"


def open_refund(
    conn: Connection,
    request: RefundRequest,
    *,
    kind: str,
    state: str,
    money_moved: bool = False,
    gateway_refund_id: str | None = None,
) -> tuple[str, bool]:
    """Find or create the refund for (store, connector, source ref); returns (id, created)."""
    refund_id = new_refund_id()
    at = now()
    primary = request.payments[0] if request.payments else None
    created = insert_ignore(
        conn,
        refunds,
        {
            "id": refund_id,
            "connector": request.connector,
            "store_id": request.store_id,
            "source_ref": request.source_ref,
            "order_id": request.order_id,
            "kind": kind,
            "state": state,
            "money_moved": money_moved,
            "amount": request.amount,
            "approved_amount": request.amount if state == states.RECORDED else None,
            "currency": request.currency,
            "idempotency_key": idempotency_key_for(refund_id),
            "gateway_refund_id": gateway_refund_id,
            "request": request.model_dump(mode="json"),
            "customer_id": request.customer.id,
            "customer_email": normalize_email(request.customer.email),
            "payment_fingerprint": payment_fingerprint(primary) if primary else None,
            "delivery_id": request.delivery_id,
            "attempts": 0,
            "created_at": at,
            "updated_at": at,
        },
        conflict=("store_id", "connector", "source_ref"),
    )
    if created:
        return refund_id, True
    existing = conn.execute(
        select(refunds.c.id).where(
            refunds.c.store_id == request.store_id,
            refunds.c.connector == request.connector,
            refunds.c.source_ref == request.source_ref,
        )
    ).scalar_one()
    return existing, False


_GET = select(refunds).where(refunds.c.id == bindparam("refund_id"))  # built once: the worker reads it often


def get(conn: Connection, refund_id: str) -> Row[Any] | None:
    return conn.execute(_GET, {"refund_id": refund_id}).first()


def find_by_gateway_refund(conn: Connection, gateway_refund_id: str) -> Row[Any] | None:
    return conn.execute(select(refunds).where(refunds.c.gateway_refund_id == gateway_refund_id)).first()


def transition(
    conn: Connection, refund_id: str, to: str, *, expect: str | tuple[str, ...] | None = None, **values: Any
) -> bool:
    """Move the refund to ``to`` if it is in ``expect`` (default: any state allowed to reach ``to``).

    Returns False when another worker moved it first; raises for a transition the machine forbids.
    ``values`` are further columns to set: plain values, or ``NEXT_ATTEMPT``.
    """
    statement, params = _transition(refund_id, to, expect, values, returning=False)
    return conn.execute(statement, params).rowcount == 1


def transition_returning(
    conn: Connection, refund_id: str, to: str, *, expect: str | tuple[str, ...] | None = None, **values: Any
) -> Row[Any] | None:
    """``transition`` that hands back the updated row (None if another worker moved it first),
    saving the caller a read."""
    statement, params = _transition(refund_id, to, expect, values, returning=True)
    return conn.execute(statement, params).first()


NEXT_ATTEMPT = refunds.c.attempts + 1  # one object, so statements that use it are cached


def _transition(
    refund_id: str, to: str, expect: str | tuple[str, ...] | None, values: dict[str, Any], returning: bool
) -> tuple[Update, dict[str, Any]]:
    sources = (expect,) if isinstance(expect, str) else tuple(expect or states.sources_of(to))
    for source in sources:
        if not states.allowed(source, to):
            raise IllegalTransition(f"refund {refund_id}: {source} -> {to} is not allowed")
    expressions = tuple((k, v) for k, v in values.items() if v is NEXT_ATTEMPT)
    plain = {k: v for k, v in values.items() if v is not NEXT_ATTEMPT}
    statement = _transition_statement(to, sources, tuple(plain), expressions, returning)
    params = {"p_refund_id": refund_id, "p_updated_at": now(), **{f"p_{k}": v for k, v in plain.items()}}
    return statement, params


@lru_cache(maxsize=256)
def _transition_statement(
    to: str, sources: tuple[str, ...], keys: tuple[str, ...], expressions: tuple[tuple[str, Any], ...], returning: bool
) -> Update:
    """One UPDATE per shape of transition, built once: building SQLAlchemy statements cost the
    worker more CPU than running them."""
    statement = (
        update(refunds)
        .where(refunds.c.id == bindparam("p_refund_id"), refunds.c.state.in_(sources))
        .values(
            state=to,
            updated_at=bindparam("p_updated_at"),
            **{key: bindparam(f"p_{key}") for key in keys},
            **dict(expressions),
        )
    )
    return statement.returning(*refunds.columns) if returning else statement


def upsert_payment(conn: Connection, store_id: str, route: str, payment: Payment) -> int:
    """The payment row for (store, route, reference); captured is refreshed from the latest read."""
    where = and_(payments.c.store_id == store_id, payments.c.route == route, payments.c.reference == payment.reference)
    inserted = insert_ignore(
        conn,
        payments,
        {
            "store_id": store_id,
            "route": route,
            "reference": payment.reference,
            "currency": payment.currency,
            "captured": payment.captured,
            "disputed": False,
            "updated_at": now(),
        },
        conflict=("store_id", "route", "reference"),
    )
    if not inserted:
        conn.execute(update(payments).where(where).values(captured=payment.captured, updated_at=now()))
    return int(conn.execute(select(payments.c.id).where(where)).scalar_one())


def _holding(payment_id: int, excluding: str | None):  # type: ignore[no-untyped-def]
    held = or_(refunds.c.state.in_(states.HOLDS_MONEY), and_(refunds.c.state == states.RECORDED, refunds.c.money_moved))
    clauses = [refunds.c.payment_id == payment_id, held]
    if excluding:
        clauses.append(refunds.c.id != excluding)
    return and_(*clauses)


def committed(conn: Connection, payment_id: int, excluding: str | None = None) -> int:
    """Money that succeeded, is pending, in doubt or approved on the payment."""
    total = conn.execute(
        select(func.coalesce(func.sum(refunds.c.approved_amount), 0)).where(_holding(payment_id, excluding))
    ).scalar_one()
    return int(total)


def lock_payment(conn: Connection, payment_id: int) -> Row[Any]:
    query = select(payments).where(payments.c.id == payment_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).one()


def reserve(conn: Connection, refund_id: str, payment_id: int, amount: int, *, expect: str | tuple[str, ...]) -> None:
    """Approve ``amount`` against the payment's refundable balance, or raise.

    Must run inside a write transaction; the payment row lock serializes concurrent reservations.
    """
    payment = lock_payment(conn, payment_id)
    in_doubt = conn.execute(
        select(refunds.c.id).where(
            refunds.c.payment_id == payment_id, refunds.c.state.in_(states.IN_DOUBT), refunds.c.id != refund_id
        )
    ).first()
    if in_doubt is not None:
        raise PaymentBusy(f"refund {in_doubt.id} on this payment is still unresolved")
    already = committed(conn, payment_id, excluding=refund_id)
    if already + amount > payment.captured:
        raise OverRefund(
            f"{amount} would exceed the refundable balance {payment.captured - already} "
            f"(captured {payment.captured}, committed {already})"
        )
    if not transition(conn, refund_id, states.APPROVED, expect=expect, payment_id=payment_id, approved_amount=amount):
        raise IllegalTransition(f"refund {refund_id} changed state while it was being approved")


def claim(conn: Connection, refund_id: str, lease: timedelta) -> bool:
    """Take the refund for execution: approved → executing, with a lease and one more attempt."""
    return transition(
        conn,
        refund_id,
        states.EXECUTING,
        expect=(states.APPROVED, states.UNKNOWN),
        lease_until=now() + lease,
        attempts=NEXT_ATTEMPT,
        last_error=None,
    )


def expired_executions(conn: Connection, at: datetime) -> list[str]:
    """Refunds a worker took and never finished (it died, or lost its job): money in doubt."""
    rows = conn.execute(select(refunds.c.id).where(refunds.c.state == states.EXECUTING, refunds.c.lease_until < at))
    return [r.id for r in rows]
