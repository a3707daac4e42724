"""The Square simulator's notifications: signed ``refund.*`` (and, from ``sim.disputes``, ``dispute.*``) events.

Square signs ``base64(HMAC-SHA256(signature key, notification URL + body))`` (``webhooks.sign``)
over the subscription's public URL, which may differ from where the simulator posts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gateways.square.sim import shapes as shape
from gateways.square.webhooks import SIGNATURE_HEADER, sign
from hub.sandbox.gatewaysim import SimRefund

if TYPE_CHECKING:
    from gateways.square.sim.server import SquareSimulator


def refund_changed(sim: SquareSimulator, refund: SimRefund) -> None:
    """The ledger's ``on_change``: ``refund.created`` once, then ``refund.updated``, signed over the URL."""
    with sim.lock:
        event_type = "refund.updated" if refund.id in sim.announced else "refund.created"
        sim.announced.add(refund.id)
    post(sim, shape.notification(event_type, shape.refund_json(refund, sim.location_id), sim.merchant_id))


def post(sim: SquareSimulator, payload: dict[str, Any]) -> None:
    """Sign ``payload`` over the subscription's URL and send it where the simulator posts."""
    url = sim.webhook_url
    signed_url = sim.signed_url()
    if not url or not signed_url:
        return
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(sim.signature_key, signed_url, body)}
    sim.sender.send(url, body, headers)
