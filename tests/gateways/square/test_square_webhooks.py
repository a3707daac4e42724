"""Square refund notifications: signatures over URL + body, and parsing into hub events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateways.square import SquareGateway
from gateways.square.webhooks import SIGNATURE_HEADER, sign
from hub.contracts import Outcome
from hub.errors import MalformedBody, ParseError, SignatureInvalid
from hub.testing.signing import hmac_base64, inbound

URL = "https://hub.example.com/webhooks/gateway/square"
KEY = "sq-signature-key-1"
SPEC = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "specs" / "square_refunds.json").read_text())
UPDATED_EXAMPLE = SPEC["components"]["schemas"]["RefundUpdatedEvent"]["example"]


@pytest.fixture
def receiver() -> SquareGateway:
    return SquareGateway("square-main", {"access_token": "t", "webhook_signature_key": KEY, "notification_url": URL})


def signed(body: bytes, key: str = KEY, url: str = URL, **headers: str):
    return inbound(body, {SIGNATURE_HEADER: hmac_base64(key, url.encode() + body), **headers}, url=url)


def example_body() -> bytes:
    return json.dumps(UPDATED_EXAMPLE).encode()


def tampered():
    """A correctly signed notification whose amount was changed afterwards."""
    good = signed(example_body())
    return inbound(example_body().replace(b"1000", b"9000"), dict(good.headers), url=URL)


def events_for(gateway, inbox, refund_id, count):
    """Verify and parse what reached the inbox, keeping the events about ``refund_id``."""
    events = []
    for item in [item for item in inbox.received if refund_id.encode() in item.body]:
        gateway.verify_webhook(item)
        events += [e for e in gateway.parse_webhook(item.body) if e.gateway_refund_id == refund_id]
    return events if len(events) >= count else None


def test_the_spec_example_verifies_and_parses(receiver):
    item = signed(example_body())
    verified = receiver.verify_webhook(item)
    assert (verified.store_id, verified.topic, verified.dedupe_key) == (
        "square-main",
        "refund.updated",
        UPDATED_EXAMPLE["event_id"],
    )
    assert not verified.ack_only
    [event] = receiver.parse_webhook(item.body)
    assert event.gateway_refund_id == UPDATED_EXAMPLE["data"]["object"]["refund"]["id"]
    assert (event.outcome, event.amount, event.currency) == (Outcome.SUCCEEDED, 1000, "USD")
    assert event.payment_reference == "KkAkhdMsgzn59SM8A89WgKwekxLZY"
    assert event.hub_refund_id is None  # made outside the hub: recorded as such
    assert event.event_id == UPDATED_EXAMPLE["event_id"]


def test_sign_matches_the_sdk_verifier(receiver):
    body = example_body()
    item = inbound(body, {SIGNATURE_HEADER: sign(KEY, URL, body)}, url=URL)
    assert receiver.verify_webhook(item).dedupe_key == UPDATED_EXAMPLE["event_id"]


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(tampered(), id="tampered-body"),
        pytest.param(signed(example_body(), key="another-key"), id="wrong-key"),
        pytest.param(signed(example_body(), url=URL + "/"), id="trailing-slash-url"),
        pytest.param(inbound(example_body(), {}, url=URL), id="no-header"),
        pytest.param(inbound(b"\xff\xfe", {SIGNATURE_HEADER: "AAAA"}, url=URL), id="not-utf8"),
    ],
)
def test_inauthentic_notifications_are_refused(receiver, item):
    with pytest.raises(SignatureInvalid):
        receiver.verify_webhook(item)


def test_previous_key_is_accepted_during_rotation(receiver):
    rotated = SquareGateway(
        "square-main",
        {**receiver.settings, "webhook_signature_key": "new-key", "previous_webhook_signature_key": KEY},
    )
    assert rotated.verify_webhook(signed(example_body())).topic == "refund.updated"
    assert rotated.verify_webhook(signed(example_body(), key="new-key")).topic == "refund.updated"
    with pytest.raises(SignatureInvalid):
        receiver.verify_webhook(signed(example_body(), key="new-key"))


def test_no_configured_key_fails_closed():
    gateway = SquareGateway("square-main", {"access_token": "t", "notification_url": URL})
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(signed(example_body()))


def test_without_notification_url_the_received_url_is_used():
    gateway = SquareGateway("square-main", {"access_token": "t", "webhook_signature_key": KEY})
    assert gateway.verify_webhook(signed(example_body())).topic == "refund.updated"


def test_other_event_types_are_acknowledged_only(receiver):
    body = json.dumps({"type": "payment.updated", "event_id": "e-1", "data": {"type": "payment"}}).encode()
    verified = receiver.verify_webhook(signed(body))
    assert verified.ack_only and verified.topic == "payment.updated"
    assert receiver.parse_webhook(body) == []


def test_authentic_but_unreadable_bodies(receiver):
    with pytest.raises(MalformedBody):
        receiver.verify_webhook(signed(b"not json"))
    with pytest.raises(MalformedBody):
        receiver.verify_webhook(signed(b'{"type": "refund.updated"}'))
    with pytest.raises(ParseError):
        receiver.parse_webhook(b"\x00not json")


def test_pending_refund_succeeds_through_webhooks(sim, gateway, make_execution, inbox, eventually):
    sim.ledger.settle_after = 0.05
    payment = sim.create_payment(1000, "USD")
    execution = make_execution(payment, 600)
    result = gateway.refund(execution)
    assert result.outcome is Outcome.PENDING
    events = eventually(lambda: events_for(gateway, inbox, result.gateway_refund_id, 2))
    assert [e.outcome for e in events] == [Outcome.PENDING, Outcome.SUCCEEDED]
    assert {e.hub_refund_id for e in events} == {execution.hub_refund_id}
    assert {e.payment_reference for e in events} == {payment}
    assert len({e.event_id for e in events}) == 2
    mine = [item for item in inbox.received if result.gateway_refund_id.encode() in item.body]
    assert [gateway.verify_webhook(item).topic for item in mine] == ["refund.created", "refund.updated"]


def test_pending_refund_that_fails_is_reported_failed(sim, gateway, make_execution, inbox, eventually):
    sim.ledger.settle_after = 0.05
    sim.ledger.fail_next_refunds = 1
    payment = sim.create_payment(1000, "USD")
    result = gateway.refund(make_execution(payment, 600))
    assert result.outcome is Outcome.PENDING
    events = eventually(lambda: events_for(gateway, inbox, result.gateway_refund_id, 2))
    assert [e.outcome for e in events] == [Outcome.PENDING, Outcome.FAILED]
    assert gateway.payment(payment).refunded == 0


def test_dashboard_refund_arrives_without_hub_id(sim, gateway, inbox, eventually):
    payment = sim.create_payment(1000, "USD")
    refund_id = sim.dashboard_refund(payment, 300)
    [event] = eventually(lambda: events_for(gateway, inbox, refund_id, 1))
    assert (event.outcome, event.amount, event.payment_reference) == (Outcome.SUCCEEDED, 300, payment)
    assert event.hub_refund_id is None


def test_simulator_signs_over_the_configured_public_url(sim, settings, make_execution, inbox, eventually):
    # Behind a proxy the public URL differs from where the simulator posts; both sides agree on it.
    sim.notification_url = "https://public.example.com/webhooks/gateway/square"
    gateway = SquareGateway("square-main", {**settings, "notification_url": sim.notification_url})
    payment = sim.create_payment(1000, "USD")
    made = gateway.refund(make_execution(payment, 100))
    assert eventually(lambda: events_for(gateway, inbox, made.gateway_refund_id, 1))
    [item] = [item for item in inbox.received if made.gateway_refund_id.encode() in item.body]
    local = SquareGateway("square-main", {**settings, "notification_url": inbox.url})
    with pytest.raises(SignatureInvalid):
        local.verify_webhook(item)
