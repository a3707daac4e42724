"""Delayed capture as Square runs it (developer.squareup.com "Delayed Capture of a Card Payment",
"Update Payments"): a payment created with ``autocomplete: false`` is ``APPROVED``; while it is,
``PUT /v2/payments/{id}`` may change its ``amount_money`` (up or down, as the payment's capabilities
allow); ``POST /v2/payments/{id}/complete`` captures it (``COMPLETED``). ``approved_money`` keeps what
the card issuer approved, ``amount_money``/``total_money`` what is charged — and what a refund may
reach. A completed payment can no longer be updated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateways.square.sim import shapes as shape
from gateways.square.sim.refunds import ledger_call
from gateways.square.sim.shapes import Refused
from hub.sandbox.gatewaysim import SimPayment

if TYPE_CHECKING:
    from gateways.square.sim.server import SquareSimulator

APPROVED = "APPROVED"
COMPLETED = "COMPLETED"


def _approved(sim: SquareSimulator, payment_id: str) -> SimPayment:
    payment = ledger_call(sim.ledger.payment, payment_id)
    status = payment.extra.get("status", COMPLETED)
    if status != APPROVED:
        raise Refused(
            400,
            "INVALID_REQUEST_ERROR",
            "BAD_REQUEST",
            f"Payment {payment_id} is {status}: only APPROVED payments change",
        )
    return payment


def update(sim: SquareSimulator, payment_id: str, body: Any) -> dict[str, Any]:
    """``UpdatePayment``: a new ``amount_money`` for an approved payment."""
    if not isinstance(body, dict) or not body.get("idempotency_key"):
        raise Refused(
            400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "idempotency_key"
        )
    money = (body.get("payment") or {}).get("amount_money") or {}
    amount = money.get("amount")
    if not isinstance(amount, int) or amount <= 0:
        raise Refused(
            400, "INVALID_REQUEST_ERROR", "VALUE_TOO_LOW", "Must be greater than 0.", "payment.amount_money.amount"
        )
    with sim.lock:
        payment = _approved(sim, payment_id)
        if money.get("currency") not in (None, payment.currency):
            raise Refused(
                400, "INVALID_REQUEST_ERROR", "INVALID_ENUM_VALUE", "Unknown currency.", "payment.amount_money.currency"
            )
        payment.extra.setdefault("approved", payment.amount)
        payment.amount = amount
    return {"payment": shape.payment_json(payment, sim.ledger, sim.location_id)}


def complete(sim: SquareSimulator, payment_id: str) -> dict[str, Any]:
    """``CompletePayment``: capture what the approved payment now charges."""
    with sim.lock:
        payment = _approved(sim, payment_id)
        payment.extra["status"] = COMPLETED
    return {"payment": shape.payment_json(payment, sim.ledger, sim.location_id)}
