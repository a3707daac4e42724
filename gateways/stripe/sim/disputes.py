"""The Stripe simulator's disputes: ``GET /v1/disputes[/{id}]`` and signed ``charge.dispute.*`` events.

A cardholder disputes a charge (``open``: ``needs_response``); it closes ``won`` or ``lost``
(``close``). While open or lost the payment refuses refunds (``charge_disputed``); the charge's
``disputed`` flag stays true once it was disputed, as Stripe's does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from gateways.stripe.disputes import dispute_state
from gateways.stripe.sim import shapes
from hub.contracts import DisputeState

if TYPE_CHECKING:
    from gateways.stripe.sim.server import StripeSimulator


def open_dispute(sim: StripeSimulator, payment_id: str, amount: int | None = None) -> str:
    payment = sim.ledger.payment(payment_id)
    dispute = {
        "id": shapes.new_id("du_"),
        "object": "dispute",
        "amount": payment.amount if amount is None else amount,
        "balance_transactions": [],
        "charge": payment.extra["charge"],
        "created": int(time.time()),
        "currency": payment.currency.lower(),
        "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False, "past_due": False},
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment.id,
        "reason": "product_not_received",
        "status": "needs_response",
    }
    with sim.lock:
        sim.disputes[dispute["id"]] = dispute
    payment.disputed = True
    sim.send_event(shapes.event_json("charge.dispute.created", dispute))
    return str(dispute["id"])


def close_dispute(sim: StripeSimulator, dispute_id: str, status: str) -> None:
    with sim.lock:
        dispute = sim.disputes[dispute_id]
        previous = {"status": dispute["status"]}
        dispute["status"] = status
        held = [d for d in sim.disputes.values() if d["payment_intent"] == dispute["payment_intent"]]
    sim.ledger.payment(dispute["payment_intent"]).disputed = any(
        dispute_state(d["status"]) is not DisputeState.WON for d in held
    )
    sim.send_event(shapes.event_json("charge.dispute.closed", dispute, previous))


def ever_disputed(sim: StripeSimulator, payment_id: str) -> bool:
    with sim.lock:
        return any(d["payment_intent"] == payment_id for d in sim.disputes.values())


def register(app: Flask, sim: StripeSimulator) -> None:
    @app.get("/v1/disputes")
    def _list_disputes() -> Response:
        args = shapes.parse_form(request.args.items(multi=True))
        limit = int(args.get("limit", 10))
        with sim.lock:
            found = [
                dict(d)
                for d in sorted(sim.disputes.values(), key=lambda d: (d["created"], d["id"]), reverse=True)
                if args.get("charge", d["charge"]) == d["charge"]
                and args.get("payment_intent", d["payment_intent"]) == d["payment_intent"]
            ]
        if args.get("starting_after"):
            ids = [d["id"] for d in found]
            found = found[ids.index(args["starting_after"]) + 1 :] if args["starting_after"] in ids else []
        body = {**shapes.list_json(found[:limit], has_more=len(found) > limit), "url": "/v1/disputes"}
        return shapes.response(200, body)

    @app.get("/v1/disputes/<dispute_id>")
    def _get_dispute(dispute_id: str) -> Response:
        with sim.lock:
            dispute = sim.disputes.get(dispute_id)
        if dispute is None:
            error = shapes.error_json("invalid_request_error", f"No such dispute: '{dispute_id}'", "resource_missing")
            return shapes.response(404, error)
        return shapes.response(200, dict(dispute))
