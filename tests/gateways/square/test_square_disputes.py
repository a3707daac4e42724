"""Square disputes: the Disputes API read for a payment, the ``dispute.*`` notifications parsed.

Against the simulator's ``GET /v2/disputes`` (Square's shape: ``disputed_payment.payment_id``,
``state``, a cursor) and its signed ``dispute.created`` / ``dispute.state.updated`` bodies,
which carry the Dispute under ``data.object.object`` as the squareup SDK's event types do.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from gateways.square import SquareGateway
from gateways.square.disputes import dispute_event, dispute_state
from gateways.square.sim import SquareSimulator
from hub.contracts import DisputeState
from hub.testing.openapi import OpenApi
from tests.gateways.square.conftest import DISPUTES_SPEC_PATH, Inbox


def test_an_open_dispute_makes_the_payment_disputed(sim: SquareSimulator, gateway: SquareGateway) -> None:
    payment = sim.create_payment(5000, "USD")
    assert gateway.payment(payment).disputed is False
    sim.open_dispute(payment)
    assert gateway.payment(payment).disputed is True
    assert any(e.path == "/v2/disputes" and e.status == 200 for e in sim.exchanges)


@pytest.mark.parametrize(("won", "disputed"), [(True, False), (False, True)])
def test_a_won_dispute_releases_and_a_lost_one_keeps_holding(
    sim: SquareSimulator, gateway: SquareGateway, won: bool, disputed: bool
) -> None:
    payment = sim.create_payment(5000, "USD")
    dispute = sim.open_dispute(payment)
    sim.close_dispute(dispute, won=won)
    assert gateway.payment(payment).disputed is disputed


def test_a_dispute_on_another_payment_does_not_count(sim: SquareSimulator, gateway: SquareGateway) -> None:
    mine, other = sim.create_payment(1000, "USD"), sim.create_payment(1000, "USD")
    sim.open_dispute(other)
    assert gateway.payment(mine).disputed is False


def test_the_lookup_pages_through_every_dispute(own_sim: SquareSimulator) -> None:
    gateway = SquareGateway("square-main", {**own_sim.hub_settings(), "max_retries": 0, "timeout": 2})
    for _ in range(120):  # three pages of the simulator's 50
        own_sim.open_dispute(own_sim.create_payment(100, "USD"))
    last = own_sim.create_payment(100, "USD")
    own_sim.open_dispute(last)
    assert gateway.payment(last).disputed is True
    assert [e.path for e in own_sim.exchanges].count("/v2/disputes") == 3


def test_the_simulator_refuses_a_refund_on_a_disputed_payment(sim: SquareSimulator) -> None:
    payment = sim.create_payment(1000, "USD")
    sim.open_dispute(payment)
    with pytest.raises(Exception, match="PAYMENT_NOT_REFUNDABLE_DUE_TO_DISPUTE"):
        _refund(sim, payment)


def _refund(sim: SquareSimulator, payment: str) -> None:
    body = json.dumps(
        {"idempotency_key": "k-disputed", "payment_id": payment, "amount_money": {"amount": 100, "currency": "USD"}}
    ).encode()
    request = urllib.request.Request(
        f"{sim.url}/v2/refunds",
        body,
        {"Authorization": f"Bearer {sim.access_token}", "Content-Type": "application/json"},
    )
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(exc.read().decode()) from exc


def test_dispute_notifications_verify_and_parse(
    sim: SquareSimulator, inbox: Inbox, gateway: SquareGateway, eventually: Callable[..., Any]
) -> None:
    payment = sim.create_payment(2500, "USD")
    dispute = sim.open_dispute(payment, 2000)
    sim.close_dispute(dispute, won=True)
    assert eventually(lambda: len([i for i in inbox.received if dispute.encode() in i.body]) >= 2)
    events = []
    for item in [i for i in inbox.received if dispute.encode() in i.body]:
        verified = gateway.verify_webhook(item)
        assert verified.topic.startswith("dispute.") and not verified.ack_only
        assert gateway.parse_webhook(item.body) == []  # not a refund status
        events += gateway.parse_disputes(item.body)
    assert [(e.dispute_id, e.payment_reference, e.state, e.raw_status, e.amount) for e in events] == [
        (dispute, payment, DisputeState.OPEN, "EVIDENCE_REQUIRED", 2000),
        (dispute, payment, DisputeState.WON, "WON", 2000),
    ]
    assert events[0].holds and not events[1].holds
    assert events[0].at is not None and events[1].at is not None and events[0].at <= events[1].at


def test_the_older_nesting_and_event_name_parse_too() -> None:
    dispute = {"id": "dp_1", "state": "ACCEPTED", "disputed_payment": {"payment_id": "pay_1"}}
    payload = {"type": "dispute.state.changed", "event_id": "e1", "data": {"object": {"dispute": dispute}}}
    event = dispute_event(payload)
    assert event is not None and (event.payment_reference, event.state) == ("pay_1", DisputeState.LOST)
    assert dispute_event({"type": "refund.updated", "data": {}}) is None
    assert dispute_event({"type": "dispute.created", "data": {"object": {"object": {"id": "dp_2"}}}}) is None


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("INQUIRY_EVIDENCE_REQUIRED", DisputeState.OPEN),
        ("INQUIRY_PROCESSING", DisputeState.OPEN),
        ("EVIDENCE_REQUIRED", DisputeState.OPEN),
        ("PROCESSING", DisputeState.OPEN),
        ("INQUIRY_CLOSED", DisputeState.WON),
        ("WON", DisputeState.WON),
        ("LOST", DisputeState.LOST),
        ("ACCEPTED", DisputeState.LOST),
        ("SOMETHING_NEW", DisputeState.OPEN),  # a state Square adds later holds: a person looks
    ],
)
def test_square_states(raw: str, state: DisputeState) -> None:
    assert dispute_state(raw) is state


def test_the_simulator_answers_in_square_shapes(sim: SquareSimulator, disputes_spec: OpenApi) -> None:
    payment = sim.create_payment(700, "USD")
    dispute = sim.open_dispute(payment)
    sim.close_dispute(dispute, won=False)
    listed = _get(sim, "/v2/disputes")
    disputes_spec.check_response("/v2/disputes", "get", 200, listed)
    one = _get(sim, f"/v2/disputes/{dispute}")
    disputes_spec.check_response("/v2/disputes/{dispute_id}", "get", 200, one)
    assert one["dispute"]["state"] == "LOST" and one["dispute"]["disputed_payment"] == {"payment_id": payment}


def test_the_spec_examples_parse() -> None:
    spec = OpenApi.load(DISPUTES_SPEC_PATH)
    created = dispute_event(spec.schema("DisputeCreatedEvent")["example"])
    updated = dispute_event(spec.schema("DisputeStateUpdatedEvent")["example"])
    assert created is not None and updated is not None
    assert (created.payment_reference, created.state, created.amount) == (
        "fbmsaEOpoARDKxiSGH1fqPuqoqFZY",
        DisputeState.OPEN,
        8801,
    )
    assert (updated.dispute_id, updated.state, updated.raw_status) == ("ORSEVtZAJxb37RA1EiGw", DisputeState.WON, "WON")


def _get(sim: SquareSimulator, path: str) -> Any:
    request = urllib.request.Request(f"{sim.url}{path}", headers={"Authorization": f"Bearer {sim.access_token}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())
