"""``POST /v1/payment_intents/:id/capture`` as Stripe runs it for a ``capture_method=manual``
PaymentIntent: ``amount_to_capture`` (default: all that is capturable) captures that much; with
``final_capture=false`` (multicapture) the intent stays ``requires_capture`` for more captures,
otherwise the rest of the authorization is released. Refunds then reach only what was captured
(the charge's ``amount_captured``), which is what the hub balances a payment on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from gateways.stripe.sim import shapes
from hub.sandbox.gatewaysim import SimError, SimPayment

if TYPE_CHECKING:
    from gateways.stripe.sim.server import StripeSimulator


def capture(sim: StripeSimulator, payment: SimPayment, amount: int | None, final: bool) -> SimPayment:
    """Capture ``amount`` Stripe units; raise ``SimError`` as Stripe refuses."""
    if not shapes.capture_open(payment):
        raise SimError(
            "payment_intent_unexpected_state",
            f"This PaymentIntent could not be captured because it has a status of {shapes.intent_status(payment)}. "
            "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
        )
    captured = sim.ledger.capture(payment.id, shapes.capturable(payment) if amount is None else amount)
    if final:
        captured.extra["capture_closed"] = True
    return captured


def endpoint(sim: StripeSimulator, intent_id: str) -> Response:
    if intent_id not in sim.ledger.payments:
        return shapes.no_such_intent(intent_id)
    params = shapes.parse_form(request.form.items(multi=True))
    raw = params.get("amount_to_capture")
    if raw is not None and not str(raw).isdigit():
        return shapes.response(
            400,
            shapes.error_json(
                "invalid_request_error", f"Invalid integer: {raw}", "parameter_invalid_integer", "amount_to_capture"
            ),
        )
    final = str(params.get("final_capture", "true")).lower() != "false"
    try:
        payment = capture(sim, sim.ledger.payment(intent_id), None if raw is None else int(raw), final)
    except SimError as exc:
        status_code, body = shapes.ledger_error(exc, "amount_to_capture" if exc.code == "amount_too_large" else None)
        return shapes.response(status_code, body)
    return shapes.response(200, shapes.intent_json(payment, payment.extra["charge"]))
