"""One money movement seen twice: a platform's refund record and the gateway's event for the
same refund (a merchant refunding in WooCommerce, which asks its Stripe/Square plugin to pay).

Neither side names the other reliably, so a sighting is linked to an unlinked record of the other
kind on the same payment with the same amount within ``WINDOW``, instead of being counted twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, select

from hub.db.tables import refunds
from hub.ledger import audit, states
from hub.ledger.refunds import is_outside, now, set_gateway_refund_id, supersede

WINDOW = timedelta(days=2)
GATEWAY_SOURCE = "gateway:"


def _candidates(payment_id: int, amount: int) -> Any:
    return and_(
        refunds.c.payment_id == payment_id,
        refunds.c.approved_amount == amount,
        refunds.c.state == states.RECORDED,
        refunds.c.money_moved,
        refunds.c.created_at >= now() - WINDOW,
    )


def link_gateway_sighting(conn: Connection, payment_id: int, amount: int, gateway_refund_id: str, actor: str) -> bool:
    """A gateway reports a refund nobody in the hub made: is it a platform record already counted?"""
    twin = conn.execute(
        select(refunds.c.id).where(
            _candidates(payment_id, amount),
            refunds.c.gateway_refund_id.is_(None),
            ~is_outside(),
        )
    ).first()
    if twin is None:
        return False
    set_gateway_refund_id(conn, twin.id, gateway_refund_id)
    audit.write(conn, actor, "linked_gateway_refund", refund_id=twin.id, gateway_refund_id=gateway_refund_id)
    return True


def link_platform_record(conn: Connection, refund_id: str, payment_id: int, amount: int) -> None:
    """A platform records a refund the gateway already reported: keep one of the two in the balance."""
    twin = conn.execute(
        select(refunds.c.id, refunds.c.gateway_refund_id).where(
            _candidates(payment_id, amount), is_outside()
        )
    ).first()
    if twin is None:
        return
    supersede(conn, twin.id)
    set_gateway_refund_id(conn, refund_id, twin.gateway_refund_id)
    audit.write(
        conn,
        "worker",
        "linked_gateway_refund",
        refund_id=refund_id,
        superseded=twin.id,
        gateway_refund_id=twin.gateway_refund_id,
    )
