"""Payment rows and their refundable balance (invariant 2).

``reserve`` is where "never more than captured" lives: under a lock on the payment (PostgreSQL
row lock; SQLite's ``BEGIN IMMEDIATE`` write lock), the amounts of every refund that holds money
on the payment plus the new one must stay within what was captured, and nothing new starts while
an earlier refund on the payment is in doubt.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from hub.db.tables import payments, refunds
from hub.db.upsert import insert_ignore
from hub.errors import IllegalTransition, OverRefund, PaymentBusy
from hub.ledger import states
from hub.ledger.records import Payment, from_row
from hub.ledger.refunds import now, transition
from hub.models import Payment as PaymentFacts


def _where(store_id: str, route: str, reference: str) -> ColumnElement[bool]:
    return and_(payments.c.store_id == store_id, payments.c.route == route, payments.c.reference == reference)


def upsert(conn: Connection, store_id: str, route: str, payment: PaymentFacts) -> int:
    """The payment row for (store, route, reference); captured is refreshed from the latest read."""
    where = _where(store_id, route, payment.reference)
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


def set_disputed(conn: Connection, store_id: str, route: str, reference: str, disputed: bool) -> None:
    conn.execute(update(payments).where(_where(store_id, route, reference)).values(disputed=disputed))


def is_disputed(conn: Connection, payment_id: int) -> bool:
    return bool(conn.execute(select(payments.c.disputed).where(payments.c.id == payment_id)).scalar())


def find(conn: Connection, route: str, reference: str) -> Payment | None:
    """The payment a gateway account knows by ``reference`` (a status event names no store)."""
    row = conn.execute(select(payments).where(payments.c.route == route, payments.c.reference == reference)).first()
    return from_row(Payment, row) if row is not None else None


def _holding(payment_id: int, excluding: str | None) -> ColumnElement[bool]:
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


_LOCK = select(payments).where(payments.c.id == bindparam("payment_id"))


def lock(conn: Connection, payment_id: int) -> Payment:
    query = _LOCK.with_for_update() if conn.dialect.name == "postgresql" else _LOCK
    return from_row(Payment, conn.execute(query, {"payment_id": payment_id}).one())


def refuse_in_doubt(conn: Connection, payment_id: int, refund_id: str) -> None:
    """Raise ``PaymentBusy`` while another refund on the payment is in doubt (invariant 3)."""
    in_doubt = conn.execute(
        select(refunds.c.id).where(
            refunds.c.payment_id == payment_id, refunds.c.state.in_(states.IN_DOUBT), refunds.c.id != refund_id
        )
    ).first()
    if in_doubt is not None:
        raise PaymentBusy(f"refund {in_doubt.id} on this payment is still unresolved")


def reserve(conn: Connection, refund_id: str, payment_id: int, amount: int, *, expect: str | tuple[str, ...]) -> None:
    """Approve ``amount`` against the payment's refundable balance, or raise.

    Must run inside a write transaction; the payment row lock serializes concurrent reservations.
    A refund decided across several tenders is split into parts, each reserved on its own tender
    (``hub.ledger.tenders.reserve_split``).
    """
    from hub.ledger import tenders  # tenders builds on this module's lock and balance

    plan = tenders.plan_of(conn, refund_id)
    if len(plan) > 1:  # an order paid more than one way: the amount is split across its tenders
        tenders.reserve_split(conn, refund_id, plan, amount, expect=expect)
        return
    payment = lock(conn, payment_id)
    refuse_in_doubt(conn, payment_id, refund_id)
    already = committed(conn, payment_id, excluding=refund_id)
    if already + amount > payment.captured:
        raise OverRefund(
            f"{amount} would exceed the refundable balance {payment.captured - already} "
            f"(captured {payment.captured}, committed {already})"
        )
    if not transition(conn, refund_id, states.APPROVED, expect=expect, payment_id=payment_id, approved_amount=amount):
        raise IllegalTransition(f"refund {refund_id} changed state while it was being approved")
