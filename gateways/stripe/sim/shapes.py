"""What the Stripe simulator says on the wire: form decoding, objects, errors, events (``signing`` signs them).

Shapes follow the Stripe API reference and the spec extract in ``tests/fixtures/specs``;
nothing here keeps state, so each function can be checked against the spec on its own.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Response

from hub.sandbox.gatewaysim import PENDING, SimError, SimPayment, SimRefund

API_VERSION = "2026-10-28.endive"  # what stripe 16.1 sends as Stripe-Version

# The keys of RefundCreateParams (spec: POST /v1/refunds); Stripe refuses any other.
REFUND_CREATE_KEYS = frozenset(
    {
        "amount",
        "charge",
        "currency",
        "customer",
        "expand",
        "instructions_email",
        "metadata",
        "origin",
        "payment_intent",
        "reason",
        "refund_application_fee",
        "reverse_transfer",
    }
)
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

# Ledger refusal → (HTTP status, Stripe error type, Stripe error code, param).
LEDGER_ERRORS: dict[str, tuple[int, str, str | None, str | None]] = {
    "not_found": (404, "invalid_request_error", "resource_missing", None),
    "already_refunded": (400, "invalid_request_error", "charge_already_refunded", None),
    "amount_too_large": (400, "invalid_request_error", "amount_too_large", "amount"),
    "disputed": (400, "invalid_request_error", "charge_disputed", None),
    "idempotency_key_reused": (400, "idempotency_error", None, None),
}

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation (``metadata[k]=v``, ``expand[0]=x``, ``expand[]=x``) → nested values."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        head = raw_key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(raw_key[len(head) :])]
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":  # "expand[]": append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    """Dicts whose keys are 0..n-1 were arrays on the wire."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def error_json(kind: str, message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """Stripe's error envelope ``{"error": {type, code, message, param}}``."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return {"error": error}


def ledger_error(exc: SimError, param: str | None = None) -> tuple[int, dict[str, Any]]:
    status, kind, code, default_param = LEDGER_ERRORS.get(exc.code, (400, "invalid_request_error", exc.code, None))
    return status, error_json(kind, exc.message, code, param or default_param)


def status_error(status: int) -> dict[str, Any]:
    """The envelope Stripe sends for a bare HTTP status (injected faults)."""
    if status == 429:
        return error_json("invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit")
    if status == 401:
        return error_json("invalid_request_error", "Invalid API Key provided.")
    if status == 402:
        return error_json("card_error", "Your card was declined.", "card_declined")
    if status == 409:
        return error_json(
            "idempotency_error",
            "There is currently another in-progress request using this Idempotent Key.",
            "idempotency_key_in_use",
        )
    if status >= 500:
        return error_json("api_error", "An unknown error occurred while processing your request.")
    return error_json("invalid_request_error", f"Request failed with status {status}.")


def refund_json(refund: SimRefund, charge_id: str) -> dict[str, Any]:
    """A refund object as ``GET /v1/refunds/{id}`` returns it."""
    body: dict[str, Any] = {
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": None,
        "charge": charge_id,
        "created": int(refund.created),
        "currency": refund.currency.lower(),
        "destination_details": {"type": "card", "card": {"type": "refund"}},
        "metadata": dict(refund.metadata),
        "payment_intent": refund.payment_id,
        "reason": refund.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }
    if refund.status == PENDING:
        body["pending_reason"] = "processing"
    if refund.status == "failed":
        body["failure_reason"] = "declined"
        body["failure_balance_transaction"] = None
    return body


def list_json(data: Sequence[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": list(data), "has_more": has_more, "url": "/v1/refunds"}


def charge_json(payment: SimPayment, refunded: int, refunds: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A captured card charge; ``refunds`` only when the caller expanded it."""
    body: dict[str, Any] = {
        "id": payment.extra["charge"],
        "object": "charge",
        "amount": payment.amount,
        "amount_captured": payment.captured_amount,
        "amount_refunded": refunded,
        "captured": payment.captured_amount > 0,
        "created": int(payment.created),
        "currency": payment.currency.lower(),
        "disputed": payment.disputed,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": payment.id,
        "refunded": 0 < payment.captured_amount <= refunded,
        "status": "succeeded",
    }
    if refunds is not None:
        body["refunds"] = {
            "object": "list",
            "data": list(refunds),
            "has_more": False,
            "url": f"/v1/charges/{payment.extra['charge']}/refunds",
        }
    return body


def no_such_intent(intent_id: str) -> Response:
    return response(
        404, error_json("invalid_request_error", f"No such payment_intent: '{intent_id}'", "resource_missing", "intent")
    )


def capture_open(payment: SimPayment) -> bool:
    """A manual PaymentIntent not yet closed by a final capture: ``requires_capture``."""
    return payment.extra.get("capture_method") == "manual" and not payment.extra.get("capture_closed")


def capturable(payment: SimPayment) -> int:
    return payment.amount - payment.captured_amount if capture_open(payment) else 0


def intent_status(payment: SimPayment) -> str:
    return "requires_capture" if capture_open(payment) else "succeeded"


def intent_json(payment: SimPayment, latest_charge: str | dict[str, Any]) -> dict[str, Any]:
    """A PaymentIntent (``succeeded``, or ``requires_capture`` while a manual one may capture more);
    ``latest_charge`` is an id or the expanded charge."""
    return {
        "id": payment.id,
        "object": "payment_intent",
        "amount": payment.amount,
        "amount_capturable": capturable(payment),
        "amount_received": payment.captured_amount,
        "capture_method": payment.extra.get("capture_method", "automatic"),
        "created": int(payment.created),
        "currency": payment.currency.lower(),
        "latest_charge": latest_charge,
        "livemode": False,
        "metadata": {},
        "status": intent_status(payment),
    }


def event_json(
    kind: str, obj: Mapping[str, Any], previous: Mapping[str, Any] | None = None, idempotency_key: str | None = None
) -> dict[str, Any]:
    """A snapshot event as Stripe posts it to a webhook endpoint."""
    data: dict[str, Any] = {"object": dict(obj)}
    if previous:
        data["previous_attributes"] = dict(previous)
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": idempotency_key},
        "type": kind,
    }


def response(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
