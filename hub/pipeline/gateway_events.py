"""Refund status events from gateways: settle the hub's own refunds, record dashboard refunds.

A hub refund is matched by gateway refund id, else by the hub refund id the adapter sent as
metadata, and is never counted twice. A refund nobody in the hub made (the merchant clicked
refund in the gateway's dashboard) is recorded against its payment as money that moved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.contracts import GatewayEvent, Outcome, RefundResult
from hub.db.engine import recoverable
from hub.db.tables import payments, refunds
from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.ledger.twins import link_gateway_sighting
from hub.runtime.bootstrap import Hub


def take_gateway_events(hub: Hub, account: str, events: list[GatewayEvent], delivery_id: str | None) -> None:
    from hub.pipeline.execute import apply_result
    from hub.pipeline.writeback import write_back

    for event in events:
        with recoverable(hub.engine) as conn:
            row = _match(conn, event)
            if row is None:
                _record_dashboard_refund(conn, account, event, delivery_id)
                continue
        if row.state in (states.PENDING, states.UNKNOWN, states.EXECUTING) and event.outcome is not Outcome.UNAVAILABLE:
            result = RefundResult(
                outcome=event.outcome,
                gateway_refund_id=event.gateway_refund_id,
                amount=event.amount,
                currency=event.currency,
            )
            state = apply_result(hub, row.id, result, expect=row.state, actor=f"gateway:{account}")
            if state == states.SUCCEEDED:
                write_back(hub, row.id)
        else:
            with recoverable(hub.engine) as conn:
                audit.write(
                    conn,
                    f"gateway:{account}",
                    "status_event",
                    refund_id=row.id,
                    delivery_id=delivery_id,
                    outcome=event.outcome.value,
                    state=row.state,
                )


def _match(conn: Any, event: GatewayEvent) -> Any:
    row = ledger.find_by_gateway_refund(conn, event.gateway_refund_id)
    if row is None and event.hub_refund_id:
        row = ledger.get(conn, event.hub_refund_id)
    return row


def _record_dashboard_refund(conn: Any, account: str, event: GatewayEvent, delivery_id: str | None) -> None:
    payment = None
    if event.payment_reference:
        payment = conn.execute(
            select(payments).where(
                payments.c.route == f"gateway:{account}", payments.c.reference == event.payment_reference
            )
        ).first()
    if payment is None or event.outcome is not Outcome.SUCCEEDED:
        audit.write(
            conn,
            f"gateway:{account}",
            "unmatched_status_event",
            delivery_id=delivery_id,
            gateway_refund_id=event.gateway_refund_id,
            payment_reference=event.payment_reference,
            outcome=event.outcome.value,
        )
        return
    if link_gateway_sighting(conn, payment.id, event.amount or 0, event.gateway_refund_id, f"gateway:{account}"):
        return
    refund_id = ledger.new_refund_id()
    at = ledger.now()
    from hub.db.upsert import insert_ignore

    insert_ignore(
        conn,
        refunds,
        {
            "id": refund_id,
            "connector": f"gateway:{account}",
            "store_id": payment.store_id,
            "source_ref": f"gateway:{event.gateway_refund_id}",
            "order_id": "",
            "kind": "recorded",
            "state": states.RECORDED,
            "money_moved": True,
            "amount": event.amount or 0,
            "approved_amount": event.amount or 0,
            "currency": event.currency or payment.currency,
            "payment_id": payment.id,
            "route": f"gateway:{account}",
            "idempotency_key": f"rh-{refund_id}",
            "gateway_refund_id": event.gateway_refund_id,
            "request": {"source": "gateway dashboard"},
            "delivery_id": delivery_id,
            "attempts": 0,
            "created_at": at,
            "updated_at": at,
        },
        conflict=("store_id", "connector", "source_ref"),
    )
    audit.write(
        conn,
        f"gateway:{account}",
        "dashboard_refund_recorded",
        refund_id=refund_id,
        delivery_id=delivery_id,
        gateway_refund_id=event.gateway_refund_id,
        amount=event.amount,
    )
