"""The Stripe simulator's webhooks: signed ``refund.*`` events posted to ``webhook_url``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gateways.stripe.sim import shapes
from gateways.stripe.sim.signing import signature_header
from hub.sandbox.gatewaysim import FAILED, SimRefund

if TYPE_CHECKING:
    from gateways.stripe.sim.server import StripeSimulator


def announce(sim: StripeSimulator, refund: SimRefund) -> None:
    """Stripe's refund events: created once, then updated; failed refunds also ``refund.failed``."""
    with sim.lock:
        first = refund.id not in sim.announced
        sim.announced.add(refund.id)
    if not sim.webhook_url:
        return
    kinds = ["refund.created"] if first else ["refund.updated"]
    if refund.status == FAILED:
        kinds.append("refund.failed")
    body = sim.refund_json(refund)
    previous = None if first else {"status": "pending"}
    for kind in kinds:
        event = shapes.event_json(kind, body, previous, refund.key)
        send(sim, event)


def send(sim: StripeSimulator, event: dict[str, Any], timestamp: int | None = None) -> None:
    """Post a signed event to ``webhook_url`` (also usable by tests for hand-made events)."""
    if not sim.webhook_url:
        return
    raw = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature_header(raw, sim.webhook_secrets, timestamp),
    }
    sim.sender.send(sim.webhook_url, raw, headers)
