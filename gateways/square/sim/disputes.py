"""The Square simulator's disputes: ``GET /v2/disputes[/{id}]`` and signed ``dispute.*`` notifications.

A cardholder's bank opens a dispute on a payment (``open``); the bank decides it later
(``change_state``). While it is open or lost the payment refuses refunds, as Square does
(``PAYMENT_NOT_REFUNDABLE_DUE_TO_DISPUTE``); notifications carry the Dispute under
``data.object.object`` as Square's dispute webhooks do.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, request

from gateways.square.disputes import dispute_state
from gateways.square.sim import hooks
from gateways.square.sim.refunds import ledger_call
from gateways.square.sim.shapes import Refused, timestamp
from hub.contracts import DisputeState

if TYPE_CHECKING:
    from gateways.square.sim.server import SquareSimulator

PAGE = 50


def open_dispute(sim: SquareSimulator, payment_id: str, amount: int | None = None, reason: str = "NOT_RECEIVED") -> str:
    payment = ledger_call(sim.ledger.payment, payment_id)
    dispute_id = f"sqdp_{uuid.uuid4().hex[:20]}"
    now = timestamp()
    dispute = {
        "id": dispute_id,
        "dispute_id": dispute_id,
        "amount_money": {"amount": payment.amount if amount is None else amount, "currency": payment.currency},
        "reason": reason,
        "state": "EVIDENCE_REQUIRED",
        "due_at": now,
        "disputed_payment": {"payment_id": payment_id},
        "card_brand": "VISA",
        "created_at": now,
        "updated_at": now,
        "brand_dispute_id": uuid.uuid4().hex[:12],
        "reported_at": now,
        "version": 1,
        "location_id": sim.location_id,
    }
    with sim.lock:
        sim.disputes[dispute_id] = dispute
        payment.disputed = True
    _announce(sim, "dispute.created", dispute)
    return dispute_id


def change_state(sim: SquareSimulator, dispute_id: str, state: str) -> None:
    with sim.lock:
        dispute = sim.disputes[dispute_id]
        dispute.update(state=state, updated_at=timestamp(), version=dispute["version"] + 1)
        payment = sim.ledger.payment(dispute["disputed_payment"]["payment_id"])
        payment.disputed = any(
            d["disputed_payment"]["payment_id"] == payment.id and dispute_state(d["state"]) is not DisputeState.WON
            for d in sim.disputes.values()
        )
    _announce(sim, "dispute.state.updated", dispute)


def _announce(sim: SquareSimulator, event_type: str, dispute: dict[str, Any]) -> None:
    hooks.post(
        sim,
        {
            "merchant_id": sim.merchant_id,
            "location_id": sim.location_id,
            "type": event_type,
            "event_id": str(uuid.uuid4()),
            "created_at": timestamp(),
            "data": {"type": "dispute", "id": dispute["id"], "object": {"object": dict(dispute)}},
        },
    )


def register(app: Flask, sim: SquareSimulator) -> None:
    @app.get("/v2/disputes")
    def _list_disputes() -> Response:
        wanted = {s for value in request.args.getlist("states") for s in value.split(",") if s}
        location = request.args.get("location_id")
        with sim.lock:
            found = [
                dict(d)
                for d in sim.disputes.values()
                if (not wanted or d["state"] in wanted) and (not location or d["location_id"] == location)
            ]
        start = int(request.args.get("cursor") or 0)
        body: dict[str, Any] = {}
        if found[start : start + PAGE]:
            body["disputes"] = found[start : start + PAGE]
        if start + PAGE < len(found):
            body["cursor"] = str(start + PAGE)
        return jsonify(body)

    @app.get("/v2/disputes/<dispute_id>")
    def _get_dispute(dispute_id: str) -> Response:
        with sim.lock:
            dispute = sim.disputes.get(dispute_id)
        if dispute is None:
            raise Refused(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", f"Could not find dispute with id: {dispute_id}")
        return jsonify({"dispute": dict(dispute)})
