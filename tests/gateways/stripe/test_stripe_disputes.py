"""Stripe disputes: ``charge.dispute.*`` events parsed, and the payment lookup's hold.

The simulator answers ``GET /v1/disputes?payment_intent=`` and sends signed
``charge.dispute.created`` / ``charge.dispute.closed``; a charge's ``disputed`` stays true after
a won dispute, as Stripe's does, so only the dispute list can tell the hold is over.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateways.stripe import StripeGateway
from gateways.stripe.disputes import dispute_events, dispute_state
from gateways.stripe.sim import StripeSimulator
from hub.contracts import DisputeState


def _disputes(gateway: StripeGateway, inbox: Any, dispute_id: str, count: int) -> list[Any]:
    events = []
    for item in inbox.wait_for(count, about=dispute_id):
        verified = gateway.verify_webhook(item)
        assert verified.topic.startswith("charge.dispute.")
        assert gateway.parse_webhook(item.body) == []  # not a refund status
        events += gateway.parse_disputes(item.body)
    return events


def test_dispute_events_name_the_intent_and_the_charge(
    sim: StripeSimulator, gateway: StripeGateway, inbox: Any
) -> None:
    pi = sim.create_payment(4000, "USD")
    dispute = sim.open_dispute(pi, 2500)
    sim.close_dispute(dispute, won=True)
    events = _disputes(gateway, inbox, dispute, 2)
    charge = sim.charge_of(pi)
    assert [(e.payment_reference, e.state, e.raw_status, e.amount, e.currency) for e in events] == [
        (pi, DisputeState.OPEN, "needs_response", 2500, "USD"),
        (charge, DisputeState.OPEN, "needs_response", 2500, "USD"),
        (pi, DisputeState.WON, "won", 2500, "USD"),
        (charge, DisputeState.WON, "won", 2500, "USD"),
    ]
    assert {e.dispute_id for e in events} == {dispute} and all(e.at is not None for e in events)


@pytest.mark.parametrize(("won", "disputed"), [(True, False), (False, True)])
def test_the_lookup_holds_while_open_or_lost(
    sim: StripeSimulator, gateway: StripeGateway, won: bool, disputed: bool
) -> None:
    pi = sim.create_payment(4000, "USD")
    assert gateway.payment(pi).disputed is False
    dispute = sim.open_dispute(pi)
    assert gateway.payment(pi).disputed is True
    assert gateway.payment(sim.charge_of(pi)).disputed is True  # by charge id as well
    sim.close_dispute(dispute, won=won)
    assert gateway.payment(pi).disputed is disputed


def test_a_won_charge_still_says_disputed_so_the_list_is_read(sim: StripeSimulator, gateway: StripeGateway) -> None:
    pi = sim.create_payment(1000, "USD")
    sim.close_dispute(sim.open_dispute(pi), won=True)
    charge = gateway._client.v1.charges.retrieve(sim.charge_of(pi)).to_dict()
    assert charge["disputed"] is True
    assert gateway.payment(pi).disputed is False
    assert any(r.path == "/v1/disputes" and r.params.get("payment_intent") == pi for r in sim.requests)


def test_an_undisputed_payment_asks_nothing_more(sim: StripeSimulator, gateway: StripeGateway) -> None:
    pi = sim.create_payment(1000, "USD")
    sim.requests.clear()
    gateway.payment(pi)
    assert [r.path for r in sim.requests] == [f"/v1/payment_intents/{pi}"]


def test_a_legacy_charge_dispute_names_the_charge_only() -> None:
    event = {
        "id": "evt_1",
        "type": "charge.dispute.updated",
        "created": 1700000000,
        "data": {
            "object": {
                "id": "du_1",
                "object": "dispute",
                "charge": "ch_1",
                "payment_intent": None,
                "amount": 500,
                "currency": "jpy",
                "status": "under_review",
            }
        },
    }
    [only] = dispute_events(event)
    assert (only.payment_reference, only.amount, only.currency, only.state) == ("ch_1", 500, "JPY", DisputeState.OPEN)
    assert dispute_events({**event, "type": "charge.refunded"}) == []
    assert (
        dispute_events({"id": "evt_2", "type": "charge.dispute.created", "data": {"object": {"object": "charge"}}})
        == []
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("warning_needs_response", DisputeState.OPEN),
        ("warning_under_review", DisputeState.OPEN),
        ("needs_response", DisputeState.OPEN),
        ("under_review", DisputeState.OPEN),
        ("won", DisputeState.WON),
        ("warning_closed", DisputeState.WON),
        ("prevented", DisputeState.WON),
        ("lost", DisputeState.LOST),
        ("charge_refunded", DisputeState.LOST),
        ("a_new_status", DisputeState.OPEN),
    ],
)
def test_stripe_statuses(status: str, state: DisputeState) -> None:
    assert dispute_state(status) is state
