"""The PayPal simulator's ``/__sim`` control API, for ``refund-hub demo`` driving it from another process.

- ``POST /__sim/payments`` ``{"amount", "currency", "id", "kind", "order_id"}`` -> 201 ``{"id"}``
- ``POST /__sim/refunds`` ``{"payment_id", "amount"}`` -> 201 ``{"id"}``: a refund made on paypal.com
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request

from gateways.paypal.sim.state import CAPTURE

if TYPE_CHECKING:
    from gateways.paypal.sim.server import PayPalSimulator


def register(app: Flask, sim: PayPalSimulator) -> None:
    @app.post("/__sim/payments")
    def _sim_payment() -> Any:
        spec = request.get_json(force=True)
        payment_id = sim.create_payment(
            int(spec["amount"]),
            str(spec.get("currency", "USD")),
            spec.get("id"),
            kind=spec.get("kind", CAPTURE),
            order_id=spec.get("order_id"),
        )
        return jsonify({"id": payment_id}), 201

    @app.post("/__sim/refunds")
    def _sim_dashboard_refund() -> Any:
        spec = request.get_json(force=True)
        return jsonify({"id": sim.add_dashboard_refund(str(spec["payment_id"]), int(spec["amount"]))}), 201
