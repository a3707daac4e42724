"""``POST /v1/refunds`` as Stripe runs it: parameter validation, then the idempotency key.

Idempotency works as docs.stripe.com/api/idempotent_requests describes: once a request starts
executing, its status and body are saved under the key and replayed (Stripe prunes keys after 24
hours; the simulator never does); a reuse with other parameters is a 400 ``idempotency_error``; a
concurrent one is a 409; requests failing validation save nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Response, g, request

from gateways.stripe.sim import shapes
from gateways.stripe.transformers import stripe_units
from hub.sandbox.gatewaysim import SimError

if TYPE_CHECKING:
    from gateways.stripe.sim.server import StripeSimulator


@dataclass
class Saved:
    """The answer saved under an idempotency key, replayed to every later request with that key."""

    fingerprint: str
    status: int
    body: dict[str, Any]
    request_id: str


def create(sim: StripeSimulator) -> Response:
    """``POST /v1/refunds``: validated, then executed once per idempotency key."""
    params = shapes.parse_form(request.form.items(multi=True))
    key = request.headers.get("Idempotency-Key")
    fingerprint = json.dumps(["POST /v1/refunds", params], sort_keys=True)
    if key:
        with sim.lock:
            answer = _replay_or_claim(sim, key, fingerprint)
        if answer is not None:
            return answer
    try:
        status, body, saveable = _execute(sim, params, key, fingerprint)
    finally:
        if key:
            with sim.lock:
                sim.in_flight.discard(key)
    if key and saveable:
        with sim.lock:
            sim.saved[key] = Saved(fingerprint, status, body, g.request_id)
    response = shapes.response(status, body)
    if key:
        response.headers["Idempotency-Key"] = key
    return response


def _replay_or_claim(sim: StripeSimulator, key: str, fingerprint: str) -> Response | None:
    saved = sim.saved.get(key)
    if saved is not None:
        if saved.fingerprint != fingerprint:
            return shapes.response(
                400,
                shapes.error_json(
                    "idempotency_error",
                    f"Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                ),
            )
        response = shapes.response(saved.status, saved.body)
        response.headers.update({"Idempotent-Replayed": "true", "Original-Request": saved.request_id})
        if saved.status >= 400:
            response.headers["Stripe-Should-Retry"] = "false"
        return response
    if key in sim.in_flight:
        response = shapes.response(409, shapes.status_error(409))
        response.headers["Stripe-Should-Retry"] = "true"
        return response
    sim.in_flight.add(key)
    return None


def _execute(
    sim: StripeSimulator, params: dict[str, Any], key: str | None, fingerprint: str
) -> tuple[int, dict[str, Any], bool]:
    """(status, body, saveable): validation failures are not saved under the key."""
    invalid = validate(params)
    if invalid is not None:
        return 400, invalid, False
    kind = "payment_intent" if params.get("payment_intent") else "charge"
    intent_id = params["payment_intent"] if kind == "payment_intent" else sim.charges.get(params["charge"])
    if intent_id is None or intent_id not in sim.ledger.payments:
        return (
            404,
            shapes.error_json("invalid_request_error", f"No such {kind}: '{params[kind]}'", "resource_missing", kind),
            False,
        )
    payment = sim.ledger.payment(intent_id)
    amount = int(params["amount"]) if "amount" in params else None
    _, step = stripe_units(payment.currency)
    if amount is not None and amount % step:
        return (
            400,
            shapes.error_json(
                "invalid_request_error",
                f"Invalid amount. {payment.currency} amounts must be evenly divisible by {step}.",
                "invalid_charge_amount_no_decimal_compatible",
                "amount",
            ),
            False,
        )
    try:
        refund, _ = sim.ledger.refund(
            intent_id, amount, key, fingerprint, metadata=params.get("metadata") or {}, reason=params.get("reason")
        )
    except SimError as exc:
        status, body = shapes.ledger_error(exc)
        return status, body, True
    return 200, sim.refund_json(refund), True


def validate(params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe's parameter validation for ``POST /v1/refunds`` (nothing is saved when it fails)."""
    unknown = sorted(set(params) - shapes.REFUND_CREATE_KEYS)
    if unknown:
        return shapes.error_json(
            "invalid_request_error", f"Received unknown parameter: {unknown[0]}", "parameter_unknown", unknown[0]
        )
    if not params.get("payment_intent") and not params.get("charge"):
        return shapes.error_json(
            "invalid_request_error",
            "One of the following params should be provided for this request: payment_intent or charge.",
            "parameter_missing",
        )
    if "amount" in params and not (str(params["amount"]).isdigit() and int(params["amount"]) > 0):
        return shapes.error_json(
            "invalid_request_error", "Invalid positive integer", "parameter_invalid_integer", "amount"
        )
    if params.get("reason") and params["reason"] not in shapes.REFUND_REASONS:
        return shapes.error_json(
            "invalid_request_error",
            f"Invalid reason: must be one of {', '.join(shapes.REFUND_REASONS)}",
            "parameter_invalid_string",
            "reason",
        )
    metadata = params.get("metadata", {})
    if not isinstance(metadata, dict) or any(len(k) > 40 or len(str(v)) > 500 for k, v in metadata.items()):
        return shapes.error_json("invalid_request_error", "Invalid metadata", "parameter_invalid_string", "metadata")
    return None
