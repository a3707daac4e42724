"""``POST /v2/refunds`` as Square answers it: validation, the idempotency key, inline declines.

The same key and body replay the first response; the same key with another body is
``IDEMPOTENCY_KEY_REUSED`` (the ledger's fingerprint check). ``declined_inline`` makes the next
refunds answer 200 with ``errors`` and a FAILED refund, as Square may; ``block_while_pending``
refuses a refund while the payment has a pending one (``REFUND_ALREADY_PENDING``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gateways.square.sim import shapes as shape
from gateways.square.sim.shapes import Refused
from gateways.square.transformers import IDEMPOTENCY_KEY_LIMIT, REASON_LIMIT
from hub.sandbox.gatewaysim import PENDING, SimError

if TYPE_CHECKING:
    from gateways.square.sim.server import SquareSimulator


def refund_payment(sim: SquareSimulator, body: Any) -> dict[str, Any]:
    """``POST /v2/refunds``: the same key and body replay the first response; another body is refused."""
    key, amount, currency, payment_id, reason = read_request(body)
    fingerprint = json.dumps({k: v for k, v in body.items() if k != "idempotency_key"}, sort_keys=True)
    with sim.lock:
        first = sim.first_responses.get(key)
        if first is not None:
            # Same key: Square answers the first response, or refuses a changed request.
            ledger_call(sim.ledger.refund, payment_id, amount, key, fingerprint)
            return first
        _check_refundable(sim, payment_id, currency)
        decline = sim.declined_inline > 0
        if decline:
            sim.ledger.fail_next_refunds += 1  # the ledger creates it FAILED and consumes this
        try:
            refund, _ = ledger_call(
                sim.ledger.refund,
                payment_id,
                amount,
                key,
                fingerprint,
                reason=reason,
                pending=False if decline else None,
            )
        except Refused:
            if decline:
                sim.ledger.fail_next_refunds -= 1
            raise
        response: dict[str, Any] = {"refund": shape.refund_json(refund, sim.location_id)}
        if decline:
            sim.declined_inline -= 1
            response["errors"] = [
                shape.error("REFUND_ERROR", "REFUND_DECLINED", "The card issuer declined the refund.")
            ]
        sim.first_responses[key] = response
        return response


def _check_refundable(sim: SquareSimulator, payment_id: str, currency: str) -> None:
    """Refuse, as Square does, a refund of another currency, of an unsettled payment, or while one is pending."""
    payment = ledger_call(sim.ledger.payment, payment_id)
    if currency != payment.currency:
        raise Refused(
            400,
            "INVALID_REQUEST_ERROR",
            "CURRENCY_MISMATCH",
            f"Refund currency {currency} does not match payment currency {payment.currency}.",
            "amount_money.currency",
        )
    if payment.extra.get("status", "COMPLETED") != "COMPLETED":
        raise Refused(400, "REFUND_ERROR", "PAYMENT_NOT_REFUNDABLE", f"Payment {payment_id} is not completed.")
    if sim.block_while_pending and any(r.status == PENDING for r in sim.ledger.refunds_of(payment_id)):
        raise Refused(400, "REFUND_ERROR", "REFUND_ALREADY_PENDING", "The payment already has a pending refund.")


def ledger_call(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except SimError as exc:
        status, category, code = shape.LEDGER_ERRORS.get(exc.code, (400, "INVALID_REQUEST_ERROR", "BAD_REQUEST"))
        raise Refused(status, category, code, exc.message) from None


def read_request(body: Any) -> tuple[str, int, str, str, str | None]:
    """Validate a RefundPayment body the way Square does; returns its fields."""
    if not isinstance(body, dict):
        raise Refused(400, "INVALID_REQUEST_ERROR", "EXPECTED_JSON_BODY", "The request body must be a JSON object.")
    key = body.get("idempotency_key")
    if not isinstance(key, str) or not key:
        raise Refused(
            400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "idempotency_key"
        )
    if len(key.encode()) > IDEMPOTENCY_KEY_LIMIT:
        raise Refused(
            400,
            "INVALID_REQUEST_ERROR",
            "VALUE_TOO_LONG",
            f"Field must not be greater than {IDEMPOTENCY_KEY_LIMIT} length",
            "idempotency_key",
        )
    money = body.get("amount_money")
    if not isinstance(money, dict):
        raise Refused(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "amount_money")
    amount = money.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Refused(
            400, "INVALID_REQUEST_ERROR", "EXPECTED_INTEGER", "Expected an integer value.", "amount_money.amount"
        )
    if amount <= 0:
        raise Refused(400, "INVALID_REQUEST_ERROR", "VALUE_TOO_LOW", "Must be greater than 0.", "amount_money.amount")
    currency = money.get("currency")
    if not isinstance(currency, str) or currency != currency.upper():
        raise Refused(400, "INVALID_REQUEST_ERROR", "INVALID_ENUM_VALUE", "Unknown currency.", "amount_money.currency")
    payment_id = body.get("payment_id")
    if not isinstance(payment_id, str) or not payment_id:
        raise Refused(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "payment_id")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_LIMIT):
        raise Refused(
            400,
            "INVALID_REQUEST_ERROR",
            "VALUE_TOO_LONG",
            f"Field must not be greater than {REASON_LIMIT} length",
            "reason",
        )
    return key, amount, currency, payment_id, reason
