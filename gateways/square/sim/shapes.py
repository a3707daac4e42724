"""The JSON the Square simulator answers with: refunds, payments, notifications, error envelopes.

Shapes follow Square's spec (``PaymentRefund``, ``Payment``, ``RefundCreatedEvent``, ``Error``);
fields Square omits when empty are omitted here too.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from hub.sandbox.gatewaysim import FAILED, PENDING, SUCCEEDED, SimLedger, SimPayment, SimRefund

REFUND_STATUS = {PENDING: "PENDING", SUCCEEDED: "COMPLETED", FAILED: "FAILED"}

# HTTP status -> (category, code) for Square's error envelope.
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("INVALID_REQUEST_ERROR", "BAD_REQUEST"),
    401: ("AUTHENTICATION_ERROR", "UNAUTHORIZED"),
    403: ("AUTHENTICATION_ERROR", "FORBIDDEN"),
    404: ("INVALID_REQUEST_ERROR", "NOT_FOUND"),
    408: ("API_ERROR", "REQUEST_TIMEOUT"),
    409: ("INVALID_REQUEST_ERROR", "CONFLICT"),
    429: ("RATE_LIMIT_ERROR", "RATE_LIMITED"),
    500: ("API_ERROR", "INTERNAL_SERVER_ERROR"),
    502: ("API_ERROR", "BAD_GATEWAY"),
    503: ("API_ERROR", "SERVICE_UNAVAILABLE"),
    504: ("API_ERROR", "GATEWAY_TIMEOUT"),
}

# SimLedger refusals -> (HTTP status, category, code).
LEDGER_ERRORS: dict[str, tuple[int, str, str]] = {
    "not_found": (404, "INVALID_REQUEST_ERROR", "NOT_FOUND"),
    "idempotency_key_reused": (400, "INVALID_REQUEST_ERROR", "IDEMPOTENCY_KEY_REUSED"),
    "disputed": (400, "REFUND_ERROR", "PAYMENT_NOT_REFUNDABLE_DUE_TO_DISPUTE"),
    "already_refunded": (400, "REFUND_ERROR", "REFUND_AMOUNT_INVALID"),
    "amount_too_large": (400, "REFUND_ERROR", "REFUND_AMOUNT_INVALID"),
}


class Refused(Exception):
    """A request Square would answer with an error envelope."""

    def __init__(self, status: int, category: str, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.body = envelope(error(category, code, detail, field))


def timestamp(seconds: float | None = None) -> str:
    """RFC 3339 with milliseconds, as Square writes ``created_at``."""
    moment = datetime.fromtimestamp(time.time() if seconds is None else seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error(category: str, code: str, detail: str, field: str | None = None) -> dict[str, Any]:
    entry = {"category": category, "code": code, "detail": detail}
    if field:
        entry["field"] = field
    return entry


def envelope(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"errors": list(errors)}


def status_envelope(status: int, detail: str | None = None) -> dict[str, Any]:
    category, code = STATUS_ERRORS.get(
        status, ("API_ERROR" if status >= 500 else "INVALID_REQUEST_ERROR", "BAD_REQUEST")
    )
    return envelope(error(category, code, detail or f"Simulated HTTP {status}."))


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def refund_json(refund: SimRefund, location_id: str) -> dict[str, Any]:
    updated = refund.settle_at if refund.status != PENDING and refund.settle_at else refund.created
    body: dict[str, Any] = {
        "id": refund.id,
        "status": REFUND_STATUS[refund.status],
        "location_id": location_id,
        "unlinked": False,
        "destination_type": "CARD",
        "amount_money": money(refund.amount, refund.currency),
        "payment_id": refund.payment_id,
        "created_at": timestamp(refund.created),
        "updated_at": timestamp(updated),
    }
    if refund.reason:
        body["reason"] = refund.reason
    return body


def payment_json(payment: SimPayment, ledger: SimLedger, location_id: str) -> dict[str, Any]:
    amount = money(payment.amount, payment.currency)
    body: dict[str, Any] = {
        "id": payment.id,
        "created_at": timestamp(payment.created),
        "updated_at": timestamp(payment.created),
        "amount_money": amount,
        "total_money": amount,
        "approved_money": money(payment.extra.get("approved", payment.amount), payment.currency),
        "status": payment.extra.get("status", "COMPLETED"),
        "source_type": "CARD",
        "location_id": location_id,
        "receipt_number": payment.id[:4],
        "version_token": f"v{len(payment.refund_ids)}-{payment.id}",
    }
    if payment.refund_ids:
        body["refund_ids"] = list(payment.refund_ids)
        # "The total amount of the payment refunded to date": completed refunds only here.
        body["refunded_money"] = money(ledger.refunded(payment.id, include_pending=False), payment.currency)
    return body


def notification(event_type: str, refund: dict[str, Any], merchant_id: str) -> dict[str, Any]:
    """A ``refund.created`` / ``refund.updated`` webhook body."""
    return {
        "merchant_id": merchant_id,
        "type": event_type,
        "event_id": str(uuid.uuid4()),
        "created_at": timestamp(),
        "data": {"type": "refund", "id": refund["id"], "object": {"refund": refund}},
    }
