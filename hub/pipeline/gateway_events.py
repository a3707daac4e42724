"""Refund status events from gateways: settle the hub's own refunds, record dashboard refunds.

A hub refund is matched by gateway refund id, else by the hub refund id the adapter sent as
metadata, and is never counted twice. A refund nobody in the hub made (the merchant clicked
refund in the gateway's dashboard) is recorded against its payment as money that moved.
"""

from __future__ import annotations

from hub.contracts import GatewayEvent, Outcome, RefundResult
from hub.ledger import audit, payments, states
from hub.ledger import refunds as ledger
from hub.ledger.twins import GATEWAY_SOURCE, link_gateway_sighting
from hub.ledger.unit import Unit, write
from hub.pipeline.settle import settle
from hub.runtime.bootstrap import Hub

SETTLEABLE = (states.PENDING, states.UNKNOWN, states.EXECUTING)


def take_gateway_events(hub: Hub, account: str, events: list[GatewayEvent], delivery_id: str | None) -> None:
    actor = f"{GATEWAY_SOURCE}{account}"
    for event in events:
        with write(hub.engine) as conn:
            row = ledger.find_for_route(
                conn, actor, gateway_refund_id=event.gateway_refund_id, hub_refund_id=event.hub_refund_id
            )
            if row is None:
                _record_dashboard_refund(conn, account, event, delivery_id)
                continue
            late_failure = row.state in states.SUCCESSES and event.outcome is Outcome.FAILED
            if (row.state not in SETTLEABLE and not late_failure) or event.outcome is Outcome.UNAVAILABLE:
                audit.write(
                    conn,
                    actor,
                    "status_event",
                    refund_id=row.id,
                    delivery_id=delivery_id,
                    outcome=event.outcome.value,
                    state=row.state,
                )
                continue
        result = RefundResult(
            outcome=event.outcome,
            gateway_refund_id=event.gateway_refund_id,
            amount=event.amount,
            currency=event.currency,
        )
        settled = settle(hub, row.id, result, expect=row.state, actor=actor)
        if late_failure and settled.applied:
            _failed_after_success(hub, row.id, actor, was=row.state)


def _failed_after_success(hub: Hub, refund_id: str, actor: str, *, was: str) -> None:
    """The money came back after the refund had succeeded: the ledger no longer counts it, and
    a person must tell the store and the customer (the store may show it refunded)."""
    with write(hub.engine) as conn:
        ledger.flag_needs_person(conn, refund_id)
        audit.write(
            conn,
            actor,
            "failed_after_success",
            refund_id=refund_id,
            was=was,
            note="the gateway reports the refund failed after it had succeeded; the store may still show it refunded",
        )


def _record_dashboard_refund(conn: Unit, account: str, event: GatewayEvent, delivery_id: str | None) -> None:
    actor = f"{GATEWAY_SOURCE}{account}"
    payment = payments.find(conn, actor, event.payment_reference) if event.payment_reference else None
    if payment is None or event.outcome is not Outcome.SUCCEEDED:
        audit.write(
            conn,
            actor,
            "unmatched_status_event",
            delivery_id=delivery_id,
            gateway_refund_id=event.gateway_refund_id,
            payment_reference=event.payment_reference,
            outcome=event.outcome.value,
        )
        return
    if link_gateway_sighting(conn, payment.id, event.amount or 0, event.gateway_refund_id, actor):
        return
    refund_id = ledger.open_outside_refund(
        conn,
        payment,
        connector=ledger.connector_of_payment(conn, payment) or actor,
        source=actor,
        gateway_refund_id=event.gateway_refund_id,
        amount=event.amount or 0,
        currency=event.currency,
        delivery_id=delivery_id,
    )
    audit.write(
        conn,
        actor,
        "dashboard_refund_recorded",
        refund_id=refund_id,
        delivery_id=delivery_id,
        gateway_refund_id=event.gateway_refund_id,
        amount=event.amount,
    )
