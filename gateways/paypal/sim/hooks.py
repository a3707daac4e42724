"""The PayPal simulator's webhooks: signed events for every refund change, and their verification.

Events are announced when the ledger changes a refund (``announce``) and kept in ``outbox``;
``verify`` is PayPal's ``verify-webhook-signature``, which answers SUCCESS only for a
transmission the simulator signed, byte for byte (``signing``).
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from flask import jsonify, request

from gateways.paypal import money
from gateways.paypal.sim import shapes, signing
from gateways.paypal.sim.shapes import Answer
from hub.sandbox.gatewaysim import FAILED, PENDING, SUCCEEDED, SimRefund

if TYPE_CHECKING:
    from gateways.paypal.sim.server import PayPalSimulator


def verify(sim: PayPalSimulator) -> Any:
    """``POST /v1/notifications/verify-webhook-signature``: SUCCESS only for what the simulator signed."""
    try:
        members = signing.top_level_raw(request.get_data(as_text=True))
        fields = {
            k: json.loads(members[k])
            for k in (
                "auth_algo",
                "cert_url",
                "transmission_id",
                "transmission_sig",
                "transmission_time",
                "webhook_id",
            )
        }
        event = members["webhook_event"]
    except (ValueError, KeyError) as exc:
        raise Answer(400, shapes.v1_error("VALIDATION_ERROR", "Invalid request - see details", str(exc))) from None
    expected = signing.signature(
        sim.signing_key,
        str(fields["transmission_id"]),
        str(fields["transmission_time"]),
        str(fields["webhook_id"]),
        event.encode(),
    )
    authentic = (
        fields["auth_algo"] == signing.AUTH_ALGO
        and fields["cert_url"] == sim.cert_url
        # bytes: compare_digest refuses non-ASCII text, and a forged signature may be any text
        and secrets.compare_digest(str(fields["transmission_sig"]).encode("utf-8", "replace"), expected.encode())
    )
    return jsonify({"verification_status": "SUCCESS" if authentic else "FAILURE"})


def announce(sim: PayPalSimulator, refund: SimRefund) -> None:
    """The ledger's ``on_change``: PayPal's webhook for the refund's new state."""
    if refund.metadata.get("api") == "v1":
        if refund.status == SUCCEEDED:
            send(sim, "PAYMENT.SALE.REFUNDED", "refund", sim.v1_refund(refund), "A sale was refunded", "1.0")
        return
    event_type = {
        PENDING: "PAYMENT.REFUND.PENDING",
        SUCCEEDED: "PAYMENT.CAPTURE.REFUNDED",
        FAILED: "PAYMENT.REFUND.FAILED",
    }[refund.status]
    value = money.render(refund.amount, refund.currency)
    summary = f"A {refund.currency} {value} refund is {shapes.V2_STATUS[refund.status]}"
    send(sim, event_type, "refund", sim.v2_refund(refund, minimal=False), summary, "2.0")


def send(
    sim: PayPalSimulator, event_type: str, resource_type: str, resource: dict[str, Any], summary: str, version: str
) -> None:
    body = json.dumps(shapes.event(sim.url, event_type, resource_type, resource, summary, version)).encode()
    headers = {"Content-Type": "application/json", **sim.sign(body)}
    sim.outbox.append((body, headers))
    if sim.webhook_url:
        sim.sender.send(sim.webhook_url, body, headers)
