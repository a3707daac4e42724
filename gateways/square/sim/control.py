"""The Square simulator's ``/__sim`` control API: seed payments and Dashboard refunds, flip the switches.

- ``POST /__sim/payments`` ``{"amount", "currency", "id", "status"}`` -> ``{"id"}``
- ``POST /__sim/payments/<id>/refunds`` ``{"amount"}`` -> ``{"id"}``: a refund made in the Dashboard
- ``POST /__sim/switches`` ``{"declined_inline", "block_while_pending", "settle_after"}``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, request

from gateways.square.sim.refunds import ledger_call

if TYPE_CHECKING:
    from gateways.square.sim.server import SquareSimulator


def register(app: Flask, sim: SquareSimulator) -> None:
    @app.post("/__sim/payments")
    def _seed_payment() -> Response:
        spec = request.get_json(force=True)
        payment_id = sim.create_payment(
            int(spec["amount"]), spec.get("currency", "USD"), spec.get("id"), spec.get("status", "COMPLETED")
        )
        return jsonify({"id": payment_id})

    @app.post("/__sim/payments/<payment_id>/refunds")
    def _seed_dashboard_refund(payment_id: str) -> Response:
        spec = request.get_json(force=True)
        refund_id = ledger_call(sim.dashboard_refund, payment_id, int(spec["amount"]))
        return jsonify({"id": refund_id})

    @app.post("/__sim/switches")
    def _switches() -> Response:
        spec = request.get_json(force=True)
        sim.declined_inline = int(spec.get("declined_inline", sim.declined_inline))
        sim.block_while_pending = bool(spec.get("block_while_pending", sim.block_while_pending))
        sim.ledger.settle_after = float(spec.get("settle_after", sim.ledger.settle_after))
        return jsonify({"ok": True})
