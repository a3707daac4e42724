"""The PayPal simulator's money-moving calls: v2 capture refunds, authorization voids, v1 sale refunds.

``PayPal-Request-Id`` answers with the latest status of the first request that used it, whatever
the new body says; amounts are checked as PayPal checks them (``money``); the ledger's refusals
are worded as PayPal words them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request

from gateways.paypal import money
from gateways.paypal.sim import shapes
from gateways.paypal.sim.hooks import send
from gateways.paypal.sim.shapes import Answer
from gateways.paypal.sim.state import AUTHORIZATION, CAPTURE, SALE
from hub.sandbox.gatewaysim import SimError, SimPayment, SimRefund

if TYPE_CHECKING:
    from gateways.paypal.sim.server import PayPalSimulator

VALUE_PATTERN = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # spec ``money.value``

# Ledger refusals -> (v2 status, v2 issue, v1 name) as PayPal words them.
REFUSALS = {
    "already_refunded": (422, "CAPTURE_FULLY_REFUNDED", "TRANSACTION_ALREADY_REFUNDED"),
    "amount_too_large": (422, "REFUND_AMOUNT_EXCEEDED", "REFUND_EXCEEDED_TRANSACTION_AMOUNT"),
    "disputed": (422, "TRANSACTION_DISPUTED", "TRANSACTION_REFUSED"),
}


def refund_capture(sim: PayPalSimulator, capture_id: str) -> Any:
    """``POST /v2/payments/captures/{id}/refund``: ``PayPal-Request-Id`` replays the first request."""
    payment = sim.payment(capture_id, CAPTURE)
    key = request.headers.get("PayPal-Request-Id")
    minimal = "return=representation" not in request.headers.get("Prefer", "")
    earlier = _keyed(sim, key)
    if earlier is not None:  # "returns the latest status of the previous request"
        return jsonify(sim.v2_refund(earlier, minimal)), 201
    body = _body()
    amount = _amount(payment, body.get("amount"), "value", "currency_code", v1=False)
    invoice = body.get("invoice_id")
    if invoice and any(
        r.metadata.get("invoice_id") == invoice and r.key != key for r in list(sim.ledger.refunds.values())
    ):
        raise Answer(422, shapes.error(422, "DUPLICATE_INVOICE_ID"))
    metadata = {k: body[k] for k in ("custom_id", "invoice_id", "note_to_payer") if body.get(k)}
    refund = _create_refund(sim, payment, amount, key, {"api": "v2", **metadata})
    return jsonify(sim.v2_refund(refund, minimal)), 201


def void(sim: PayPalSimulator, authorization_id: str) -> Any:
    """``POST /v2/payments/authorizations/{id}/void``: all of it, once."""
    payment = sim.payment(authorization_id, AUTHORIZATION)
    key = request.headers.get("PayPal-Request-Id")
    with sim.lock:
        if payment.extra["status"] == "VOIDED" and (key is None or key != payment.extra.get("void_key")):
            raise Answer(422, shapes.error(422, "PREVIOUSLY_VOIDED"))
        first = payment.extra["status"] != "VOIDED"
        payment.extra.update(status="VOIDED", void_key=key)
    body = shapes.authorization(sim.url, payment)
    if first:
        send(sim, "PAYMENT.AUTHORIZATION.VOIDED", "authorization", body, "A payment authorization was voided", "2.0")
    if "return=representation" not in request.headers.get("Prefer", ""):
        return Response(status=204)
    return jsonify(body)


def refund_sale(sim: PayPalSimulator, sale_id: str) -> Any:
    """``POST /v1/payments/sale/{id}/refund`` (deprecated v1)."""
    payment = sim.payment(sale_id, SALE)
    key = request.headers.get("PayPal-Request-Id")
    earlier = _keyed(sim, key)
    if earlier is not None:
        return jsonify(sim.v1_refund(earlier)), 200  # the v1 spec: 200 for an idempotent repeat
    body = _body()
    amount = _amount(payment, body.get("amount"), "total", "currency", v1=True)
    metadata = {"invoice_number": body["invoice_number"]} if body.get("invoice_number") else {}
    refund = _create_refund(sim, payment, amount, key, {"api": "v1", **metadata})
    return jsonify(sim.v1_refund(refund)), 201


def _keyed(sim: PayPalSimulator, key: str | None) -> SimRefund | None:
    if key is None:
        return None  # without the header PayPal "duplicates the request"
    return next((r for r in list(sim.ledger.refunds.values()) if r.key == key), None)


def _body() -> dict[str, Any]:
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Answer(400, shapes.error(400, "INVALID_PARAMETER_SYNTAX", "The request JSON is not well formed."))
    return body


def _amount(payment: SimPayment, amount: Any, value_key: str, currency_key: str, *, v1: bool) -> int | None:
    """Minor units of a requested amount (None: the whole remainder), refused as PayPal would."""
    if amount is None:
        return None
    value, currency = str(amount.get(value_key, "")), str(amount.get(currency_key, "")).upper()
    try:
        if not VALUE_PATTERN.match(value):
            raise money.AmountNotAccepted("INVALID_PARAMETER_SYNTAX", f"{value!r} is not a decimal amount")
        if currency != payment.currency:
            raise money.AmountNotAccepted(
                "REFUND_CAPTURE_CURRENCY_MISMATCH", shapes.ISSUES["REFUND_CAPTURE_CURRENCY_MISMATCH"]
            )
        return money.check_value(value, currency)
    except money.AmountNotAccepted as exc:
        if v1:
            raise Answer(400, shapes.v1_error("VALIDATION_ERROR", exc.message, "amount")) from None
        status = 400 if exc.code == "INVALID_PARAMETER_SYNTAX" else 422
        raise Answer(status, shapes.error(status, exc.code, exc.message)) from None


def _create_refund(
    sim: PayPalSimulator, payment: SimPayment, amount: int | None, key: str | None, metadata: dict[str, Any]
) -> SimRefund:
    try:
        refund, _ = sim.ledger.refund(payment.id, amount, key, fingerprint="", metadata=metadata)
    except SimError as exc:
        status, issue, v1_name = REFUSALS.get(exc.code, (422, "REFUND_NOT_ALLOWED", "TRANSACTION_REFUSED"))
        if metadata["api"] == "v1":
            raise Answer(400, shapes.v1_error(v1_name, exc.message)) from None
        raise Answer(status, shapes.error(status, issue)) from None
    return refund
