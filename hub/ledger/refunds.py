"""Refund rows: find-or-create by source, compare-and-set transitions, the facts a step sets.

The balance a refund reserves against lives in ``hub.ledger.payments`` (invariant 2).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select, update
from sqlalchemy.sql.dml import Update

from hub.db.tables import payments, refunds, stores
from hub.db.upsert import insert_ignore
from hub.errors import IllegalTransition
from hub.ledger import states
from hub.ledger.records import Payment, Refund, from_row
from hub.models import RefundRequest
from hub.policy.history import normalize_email, payment_fingerprint


def now() -> datetime:
    return datetime.now(UTC)


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


def get(conn: Connection, refund_id: str) -> Refund | None:
    row = conn.execute(_GET, {"refund_id": refund_id}).first()
    return from_row(Refund, row) if row is not None else None


def find_by_gateway_refund(conn: Connection, gateway_refund_id: str, *, store_id: str) -> Refund | None:
    """The store's refund the executor knows by ``gateway_refund_id`` (ids are not unique across
    stores or accounts: never match outside the store)."""
    row = conn.execute(
        select(refunds).where(refunds.c.gateway_refund_id == gateway_refund_id, refunds.c.store_id == store_id)
    ).first()
    return from_row(Refund, row) if row is not None else None


def find_for_route(conn: Connection, route: str, *, gateway_refund_id: str, hub_refund_id: str | None) -> Refund | None:
    """The refund a gateway account's status event is about: by gateway refund id, else by the hub
    refund id sent as metadata — and only among refunds that account executed or whose payment it
    holds, so one account's event can never settle another account's refund."""
    on_route = or_(refunds.c.route == route, and_(refunds.c.route.is_(None), payments.c.route == route))
    base = select(refunds).select_from(refunds.outerjoin(payments, refunds.c.payment_id == payments.c.id))
    row = conn.execute(base.where(on_route, refunds.c.gateway_refund_id == gateway_refund_id)).first()
    if row is None and hub_refund_id:
        row = conn.execute(base.where(on_route, refunds.c.id == hub_refund_id)).first()
    return from_row(Refund, row) if row is not None else None


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
) -> Refund | None:
    """``transition`` that hands back the updated refund (None if another worker moved it first),
    saving the caller a read."""
    statement, params = _transition(refund_id, to, expect, values, returning=True)
    row = conn.execute(statement, params).first()
    return from_row(Refund, row) if row is not None else None


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


def set_payment(conn: Connection, refund_id: str, payment_id: int | None, route: str | None) -> None:
    """The payment a refund draws on and who moves its money, as the decision found them."""
    conn.execute(update(refunds).where(refunds.c.id == refund_id).values(payment_id=payment_id, route=route))


def attach_payment(conn: Connection, refund_id: str, payment_id: int) -> None:
    """A recorded refund counts against its payment's balance."""
    conn.execute(update(refunds).where(refunds.c.id == refund_id).values(payment_id=payment_id))


def set_decision(conn: Connection, refund_id: str, detail: dict[str, Any], policy_version: str | None) -> None:
    conn.execute(
        update(refunds).where(refunds.c.id == refund_id).values(decision=detail, policy_version=policy_version)
    )


def set_gateway_refund_id(conn: Connection, refund_id: str, gateway_refund_id: str | None) -> None:
    conn.execute(update(refunds).where(refunds.c.id == refund_id).values(gateway_refund_id=gateway_refund_id))


def supersede(conn: Connection, refund_id: str) -> None:
    """A recorded refund whose money another record of the same movement already counts."""
    conn.execute(update(refunds).where(refunds.c.id == refund_id).values(money_moved=False, updated_at=now()))


def unsettled(conn: Connection, limit: int = 200) -> list[Refund]:
    """``pending`` and ``unknown`` refunds, longest untouched first: the executor must be asked."""
    rows = conn.execute(
        select(refunds)
        .where(refunds.c.state.in_((states.PENDING, states.UNKNOWN)))
        .order_by(refunds.c.updated_at)
        .limit(limit)
    ).all()
    return [from_row(Refund, row) for row in rows]


def stuck(conn: Connection, before: datetime) -> list[tuple[str, str]]:
    """(id, state) of refunds left ``requested`` or ``succeeded`` since ``before``: a job was lost."""
    rows = conn.execute(
        select(refunds.c.id, refunds.c.state).where(
            refunds.c.state.in_((states.REQUESTED, states.SUCCEEDED)), refunds.c.updated_at < before
        )
    ).all()
    return [(row.id, row.state) for row in rows]


def flag_needs_person(conn: Connection, refund_id: str) -> bool:
    """Mark the refund as one only a person can settle; True the first time."""
    result = conn.execute(
        update(refunds).where(refunds.c.id == refund_id, refunds.c.needs_person.is_(False)).values(needs_person=True)
    )
    return result.rowcount == 1


OUTSIDE_REF = "gateway:"  # source_ref of a refund a gateway reported and nobody in the hub made


def is_outside() -> ColumnElement[bool]:
    """Refunds recorded from a gateway's own report (a dashboard click, an import), which carry
    the store's connector like every other refund of the store, so its people see them."""
    return and_(refunds.c.kind == "recorded", refunds.c.source_ref.like(f"{OUTSIDE_REF}%"))


def came_from_gateway(row: Refund) -> bool:
    """``is_outside`` for a row already read."""
    return row.kind == "recorded" and row.source_ref.startswith(OUTSIDE_REF)


def connector_of_payment(conn: Connection, payment: Payment) -> str | None:
    """The connector of the store a payment belongs to: that of a refund the store sent against
    it, else the one connector with a store of that id; None when neither tells."""
    row = conn.execute(
        select(refunds.c.connector)
        .where(refunds.c.payment_id == payment.id, ~is_outside(), refunds.c.connector.notlike(f"{OUTSIDE_REF}%"))
        .order_by(refunds.c.created_at)
        .limit(1)
    ).first()
    if row is not None:
        return str(row.connector)
    owners = conn.execute(select(stores.c.connector).where(stores.c.store_id == payment.store_id).limit(2)).all()
    return str(owners[0].connector) if len(owners) == 1 else None


def open_outside_refund(
    conn: Connection,
    payment: Payment,
    *,
    connector: str,
    source: str,
    gateway_refund_id: str,
    amount: int,
    currency: str | None,
    delivery_id: str | None,
) -> str:
    """Record a refund nobody in the hub made (a gateway dashboard click) as money that moved,
    under the store's ``connector``; ``source`` (``gateway:<account>``) says who reported it.
    The same movement seen again is the refund already recorded (the id of that one)."""
    source_ref = f"{OUTSIDE_REF}{gateway_refund_id}"
    same = and_(refunds.c.store_id == payment.store_id, refunds.c.source_ref == source_ref, is_outside())
    seen = conn.execute(select(refunds.c.id).where(same)).first()
    if seen is not None:
        return str(seen.id)
    refund_id = new_refund_id()
    at = now()
    inserted = insert_ignore(
        conn,
        refunds,
        {
            "id": refund_id,
            "connector": connector,
            "store_id": payment.store_id,
            "source_ref": source_ref,
            "order_id": "",
            "kind": "recorded",
            "state": states.RECORDED,
            "money_moved": True,
            "amount": amount,
            "approved_amount": amount,
            "currency": currency or payment.currency,
            "payment_id": payment.id,
            "route": payment.route,
            "idempotency_key": idempotency_key_for(refund_id),
            "gateway_refund_id": gateway_refund_id,
            "request": {"source": "gateway dashboard", "reported_by": source},
            "delivery_id": delivery_id,
            "attempts": 0,
            "created_at": at,
            "updated_at": at,
        },
        conflict=("store_id", "connector", "source_ref"),
    )
    if not inserted:  # another transaction recorded it between the look and the insert
        key = and_(refunds.c.store_id == payment.store_id, refunds.c.connector == connector)
        return str(conn.execute(select(refunds.c.id).where(key, refunds.c.source_ref == source_ref)).scalar_one())
    return refund_id
