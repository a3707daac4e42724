"""PayPal disputes: ``CUSTOMER.DISPUTE.*`` webhooks verified and parsed, the capture's hold.

The simulator opens and resolves cases the way PayPal's webhooks describe them (the dispute
resource with ``disputed_transactions[].seller_transaction_id`` = the capture id, ``status``,
``dispute_outcome.outcome_code``) and answers ``GET /v1/customer/disputes``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateways.paypal import PayPalGateway
from gateways.paypal.disputes import dispute_events, dispute_state
from gateways.paypal.sim import PayPalSimulator
from hub.contracts import DisputeState

# developer.paypal.com/docs/disputes/webhooks: a CUSTOMER.DISPUTE.CREATED resource, trimmed
CREATED = {
    "id": "WH-4M0448861G563140B-9EX36365822141321",
    "create_time": "2018-06-21T13:36:33.000Z",
    "resource_type": "dispute",
    "event_type": "CUSTOMER.DISPUTE.CREATED",
    "resource": {
        "dispute_id": "PP-000-042-663-135",
        "create_time": "2018-06-21T13:35:44.000Z",
        "update_time": "2018-06-21T13:35:44.000Z",
        "disputed_transactions": [
            {"seller_transaction_id": "00D10444LD479031K", "seller": {"merchant_id": "RD465XN5VS364"}},
        ],
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "status": "OPEN",
        "dispute_amount": {"currency_code": "USD", "value": "3.00"},
        "dispute_life_cycle_stage": "INQUIRY",
        "dispute_channel": "INTERNAL",
    },
}


def test_the_documented_created_event_parses() -> None:
    [event] = dispute_events(CREATED)
    assert (event.dispute_id, event.payment_reference, event.state, event.amount, event.currency) == (
        "PP-000-042-663-135",
        "00D10444LD479031K",
        DisputeState.OPEN,
        300,
        "USD",
    )
    assert event.raw_status == "OPEN" and event.at is not None and event.event_id == CREATED["id"]


def test_a_dispute_over_two_captures_names_both() -> None:
    resource: dict[str, Any] = json.loads(json.dumps(CREATED["resource"]))
    resource["disputed_transactions"].append({"seller_transaction_id": "9XX10444LD479031K"})
    events = dispute_events({**CREATED, "resource": resource})
    assert [e.payment_reference for e in events] == ["00D10444LD479031K", "9XX10444LD479031K"]
    assert dispute_events({**CREATED, "event_type": "PAYMENT.CAPTURE.REFUNDED"}) == []


@pytest.mark.parametrize(
    ("status", "outcome", "state"),
    [
        ("OPEN", None, DisputeState.OPEN),
        ("WAITING_FOR_SELLER_RESPONSE", None, DisputeState.OPEN),
        ("UNDER_REVIEW", None, DisputeState.OPEN),
        ("RESOLVED", "RESOLVED_SELLER_FAVOUR", DisputeState.WON),
        ("RESOLVED", "CANCELED_BY_BUYER", DisputeState.WON),
        ("RESOLVED", "DENIED", DisputeState.WON),
        ("RESOLVED", "RESOLVED_BUYER_FAVOUR", DisputeState.LOST),
        ("RESOLVED", "ACCEPTED", DisputeState.LOST),
        ("RESOLVED", "RESOLVED_WITH_PAYOUT", DisputeState.LOST),
        ("RESOLVED", None, DisputeState.OPEN),  # no outcome known: a person looks
    ],
)
def test_paypal_statuses_and_outcomes(status: str, outcome: str | None, state: DisputeState) -> None:
    assert dispute_state(status, outcome) is state


@pytest.mark.parametrize(("won", "disputed"), [(True, False), (False, True)])
def test_simulated_cases_arrive_signed_and_move_the_capture(
    sim: PayPalSimulator, gateway: PayPalGateway, inbox: Any, won: bool, disputed: bool
) -> None:
    capture = sim.create_payment(4200, "USD")
    dispute = sim.open_dispute(capture)
    assert gateway.payment(capture).disputed is True
    sim.close_dispute(dispute, won=won)
    assert gateway.payment(capture).disputed is disputed
    received = inbox.wait_for(2)
    mine = [item for item in received if dispute.encode() in item.body]
    topics = [gateway.verify_webhook(item).topic for item in mine]
    assert topics == ["CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.RESOLVED"]
    events = [e for item in mine for e in gateway.parse_disputes(item.body)]
    assert [(e.payment_reference, e.state) for e in events] == [
        (capture, DisputeState.OPEN),
        (capture, DisputeState.WON if won else DisputeState.LOST),
    ]
    assert all(gateway.parse_webhook(item.body) == [] for item in mine)


def test_the_simulator_lists_disputes_by_capture(sim: PayPalSimulator, gateway: PayPalGateway) -> None:
    capture, other = sim.create_payment(1000, "USD"), sim.create_payment(1000, "USD")
    mine = sim.open_dispute(capture, 400)
    sim.open_dispute(other)
    listed = gateway.api.rest.get(f"/v1/customer/disputes?disputed_transaction_id={capture}")
    assert [(d["dispute_id"], d["dispute_amount"]) for d in listed["items"]] == [
        (mine, {"currency_code": "USD", "value": "4.00"})
    ]
    detail = gateway.api.rest.get(f"/v1/customer/disputes/{mine}")
    assert detail["disputed_transactions"][0]["seller_transaction_id"] == capture


def test_a_legacy_v1_sale_under_dispute_reads_as_disputed(sim: PayPalSimulator, gateway: PayPalGateway) -> None:
    """A v1 sale has no ``status_details``: its ``reason_code`` (BUYER_COMPLAINT, CHARGEBACK,
    GUARANTEE) says the money is disputed, and the hub holds refunds on it as on a v2 capture."""
    sale = sim.create_payment(4200, "USD", kind="sale")
    extra = {"paypal_api": "v1"}
    assert gateway.payment(sale, extra).disputed is False
    dispute = sim.open_dispute(sale)
    assert gateway.payment(sale, extra).disputed is True
    sim.close_dispute(dispute, won=True)
    assert gateway.payment(sale, extra).disputed is False


@pytest.mark.parametrize(
    ("reason", "disputed"),
    [("CHARGEBACK", True), ("BUYER_COMPLAINT", True), ("GUARANTEE", True), ("ECHECK", False), (None, False)],
)
def test_v1_sale_reason_codes(reason: str | None, disputed: bool) -> None:
    from gateways.paypal.transformers import is_sale_disputed

    assert is_sale_disputed({"state": "pending", "reason_code": reason}) is disputed
