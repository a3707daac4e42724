"""The Stripe simulator's ``/__sim`` control API, for ``refund-hub demo`` driving it from another process.

- ``POST /__sim/payments`` ``{"amount", "currency", "id"}`` (hub minor units) -> ``{"id", "charge"}``
- ``POST /__sim/refunds`` ``{"payment", "amount"}`` -> ``{"id"}``: a refund made in the Dashboard
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, request

from gateways.stripe.sim.shapes import response
from gateways.stripe.transformers import AmountNotRepresentable
from hub.sandbox.gatewaysim import SimError

if TYPE_CHECKING:
    from gateways.stripe.sim.server import StripeSimulator


def register(app: Flask, sim: StripeSimulator) -> None:
    @app.post("/__sim/payments")
    def _seed_payment() -> Response:
        spec = request.get_json(force=True)
        try:
            payment_id = sim.create_payment(int(spec["amount"]), str(spec["currency"]), spec.get("id"))
        except (KeyError, ValueError, AmountNotRepresentable) as exc:
            return response(400, {"error": str(exc)})
        return response(200, {"id": payment_id, "charge": sim.charge_of(payment_id)})

    @app.post("/__sim/refunds")
    def _seed_dashboard_refund() -> Response:
        spec = request.get_json(force=True)
        try:
            refund_id = sim.dashboard_refund(str(spec["payment"]), int(spec["amount"]))
        except (KeyError, ValueError, SimError, AmountNotRepresentable) as exc:
            return response(400, {"error": str(exc)})
        return response(200, {"id": refund_id})
