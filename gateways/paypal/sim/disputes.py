"""The PayPal simulator's disputes: ``GET /v1/customer/disputes[/{id}]`` and ``CUSTOMER.DISPUTE.*`` webhooks.

A buyer opens a case on a capture (``open``: ``CUSTOMER.DISPUTE.CREATED``, status ``OPEN``);
PayPal resolves it (``resolve``: ``CUSTOMER.DISPUTE.RESOLVED`` with ``dispute_outcome``). While
it is open the capture carries ``status_details.reason = BUYER_COMPLAINT`` and refuses refunds;
after a resolution for the buyer the money has gone back, so it still refuses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request

from gateways.paypal import money
from gateways.paypal.sim import hooks
from gateways.paypal.sim.shapes import Answer, error, link, timestamp
from gateways.paypal.sim.state import paypal_id

if TYPE_CHECKING:
    from gateways.paypal.sim.server import PayPalSimulator

MERCHANT_ID = "SIMMERCHANT0001"
SELLER_WINS = frozenset({"RESOLVED_SELLER_FAVOUR", "CANCELED_BY_BUYER", "DENIED"})


def open_dispute(sim: PayPalSimulator, capture_id: str, amount: int | None = None) -> str:
    payment = sim.ledger.payment(capture_id)
    value = money.to_value(payment.amount if amount is None else amount, payment.currency)
    dispute_id = f"PP-D-{paypal_id(8)}"
    now = timestamp()
    dispute: dict[str, Any] = {
        "dispute_id": dispute_id,
        "create_time": now,
        "update_time": now,
        "disputed_transactions": [
            {
                "seller_transaction_id": capture_id,
                "seller": {"merchant_id": MERCHANT_ID},
                "create_time": timestamp(payment.created),
                "transaction_status": "COMPLETED",
                "gross_amount": {
                    "currency_code": payment.currency,
                    "value": money.to_value(payment.amount, payment.currency),
                },
                "seller_protection_eligible": True,
            }
        ],
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "status": "OPEN",
        "dispute_amount": {"currency_code": payment.currency, "value": value},
        "dispute_life_cycle_stage": "INQUIRY",
        "dispute_channel": "INTERNAL",
        "links": [link(f"{sim.url}/v1/customer/disputes/{dispute_id}", "self")],
    }
    with sim.lock:
        sim.disputes[dispute_id] = dispute
    payment.disputed = True
    hooks.send(
        sim,
        "CUSTOMER.DISPUTE.CREATED",
        "dispute",
        dict(dispute),
        f"A new dispute opened with Case # {dispute_id}",
        "1.0",
    )
    return dispute_id


def resolve(sim: PayPalSimulator, dispute_id: str, outcome: str) -> None:
    with sim.lock:
        dispute = sim.disputes[dispute_id]
        dispute.update(status="RESOLVED", update_time=timestamp(), dispute_outcome={"outcome_code": outcome})
        capture_id = dispute["disputed_transactions"][0]["seller_transaction_id"]
        still = [
            d
            for d in sim.disputes.values()
            if d["disputed_transactions"][0]["seller_transaction_id"] == capture_id
            and (d["status"] != "RESOLVED" or d["dispute_outcome"]["outcome_code"] not in SELLER_WINS)
        ]
    sim.ledger.payment(capture_id).disputed = bool(still)
    hooks.send(sim, "CUSTOMER.DISPUTE.RESOLVED", "dispute", dict(dispute), f"Dispute {dispute_id} resolved", "1.0")


def register(app: Flask, sim: PayPalSimulator) -> None:
    @app.get("/v1/customer/disputes")
    def _list_disputes() -> Any:
        wanted = request.args.get("disputed_transaction_id")
        with sim.lock:
            items = [
                {k: d[k] for k in ("dispute_id", "create_time", "update_time", "reason", "status", "dispute_amount")}
                for d in sim.disputes.values()
                if not wanted or any(t["seller_transaction_id"] == wanted for t in d["disputed_transactions"])
            ]
        return jsonify({"items": items, "links": [link(request.url, "self")]})

    @app.get("/v1/customer/disputes/<dispute_id>")
    def _get_dispute(dispute_id: str) -> Any:
        with sim.lock:
            dispute = sim.disputes.get(dispute_id)
        if dispute is None:
            raise Answer(404, error(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found."))
        return jsonify(dispute)
