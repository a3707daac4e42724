"""Stripe status webhooks: signatures (current, rotated, tampered, expired) and refund events."""

from __future__ import annotations

import json
import time

import pytest

from gateways.stripe.sim import shapes
from gateways.stripe.sim.signing import signature_header
from gateways.stripe.webhooks import parse_events
from hub.contracts import Outcome
from hub.errors import MalformedBody, ParseError, SignatureInvalid
from hub.testing import inbound


def _signed(body: bytes, secrets: list[str], timestamp: int | None = None):
    return inbound(body, {"Stripe-Signature": signature_header(body, secrets, timestamp)})


def _events(gateway, deliveries):
    events = []
    for delivery in deliveries:
        verified = gateway.verify_webhook(delivery)
        assert verified.store_id == "stripe-main"
        assert verified.dedupe_key.startswith("evt_")
        events.append((verified.topic, gateway.parse_webhook(delivery.body)))
    return events


def test_pending_refund_settles_and_the_webhook_says_succeeded(sim, gateway, execution, inbox, lookup_of):
    sim.ledger.settle_after = 0.05
    pi = sim.create_payment(1000, "USD")
    job = execution(pi, 400)
    made = gateway.refund(job)
    assert (made.outcome, made.code) == (Outcome.PENDING, "processing")
    events = _events(gateway, inbox.wait_for(2, about=made.gateway_refund_id))
    assert [(topic, [e.outcome for e in parsed]) for topic, parsed in events] == [
        ("refund.created", [Outcome.PENDING]),
        ("refund.updated", [Outcome.SUCCEEDED]),
    ]
    final = events[1][1][0]
    assert (final.gateway_refund_id, final.hub_refund_id, final.payment_reference) == (
        made.gateway_refund_id,
        job.hub_refund_id,
        pi,
    )
    assert (final.amount, final.currency) == (400, "USD")
    assert final.event_id and final.event_id.startswith("evt_")
    assert gateway.get_refund(lookup_of(job, made.gateway_refund_id)).outcome is Outcome.SUCCEEDED


def test_pending_refund_that_fails_sends_refund_failed(sim, gateway, execution, inbox):
    sim.ledger.settle_after = 0.05
    sim.ledger.fail_next_refunds = 1
    pi = sim.create_payment(1000, "USD")
    made = gateway.refund(execution(pi, 400))
    events = _events(gateway, inbox.wait_for(3, about=made.gateway_refund_id))
    assert [topic for topic, _ in events] == ["refund.created", "refund.updated", "refund.failed"]
    assert events[2][1][0].outcome is Outcome.FAILED
    assert gateway.payment(pi).refunded == 0  # a failed refund gives the balance back


def test_dashboard_refund_arrives_without_a_hub_id(sim, gateway, inbox):
    pi = sim.create_payment(1000, "USD")
    refund_id = sim.dashboard_refund(pi, 250)
    [(topic, [event])] = _events(gateway, inbox.wait_for(1, about=refund_id))
    assert topic == "refund.created"
    assert (event.gateway_refund_id, event.hub_refund_id, event.outcome) == (refund_id, None, Outcome.SUCCEEDED)
    assert (event.payment_reference, event.amount) == (pi, 250)


def test_tampered_body_is_refused(sim, gateway):
    delivery = _signed(b'{"id": "evt_1", "type": "refund.updated"}', sim.webhook_secrets)
    forged = inbound(delivery.body.replace(b"evt_1", b"evt_2"), dict(delivery.headers))
    gateway.verify_webhook(delivery)
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(forged)


def test_expired_signature_is_refused(sim, gateway):
    body = b'{"id": "evt_1", "type": "refund.updated"}'
    gateway.verify_webhook(_signed(body, sim.webhook_secrets, int(time.time()) - 200))
    with pytest.raises(SignatureInvalid, match="tolerance"):
        gateway.verify_webhook(_signed(body, sim.webhook_secrets, int(time.time()) - 400))


def test_wrong_secret_and_missing_header_are_refused(gateway):
    body = b'{"id": "evt_1", "type": "refund.updated"}'
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(_signed(body, ["whsec_someone_else"]))
    with pytest.raises(SignatureInvalid, match="missing"):
        gateway.verify_webhook(inbound(body))


def test_previous_secret_is_accepted_during_rotation(sim, make_gateway):
    body = b'{"id": "evt_1", "type": "refund.updated"}'
    old = sim.webhook_secrets[0]
    rotated = make_gateway(webhook_secret="whsec_new", previous_webhook_secret=old)
    rotated.verify_webhook(_signed(body, [old]))
    rotated.verify_webhook(_signed(body, ["whsec_new"]))
    with pytest.raises(SignatureInvalid):
        make_gateway(webhook_secret="whsec_new").verify_webhook(_signed(body, [old]))


def test_stripe_signs_with_both_secrets_while_rolling(sim, gateway, execution, inbox, make_gateway):
    sim.roll_webhook_secret("whsec_rolled")
    pi = sim.create_payment(1000, "USD")
    made = gateway.refund(execution(pi, 100))
    [delivery] = inbox.wait_for(1, about=made.gateway_refund_id)
    assert delivery.headers["Stripe-Signature"].count("v1=") == 2
    gateway.verify_webhook(delivery)  # still configured with the old secret
    make_gateway(webhook_secret="whsec_rolled").verify_webhook(delivery)


def test_signed_junk_is_malformed_and_unparseable(sim, gateway):
    with pytest.raises(MalformedBody):
        gateway.verify_webhook(_signed(b"not json", sim.webhook_secrets))
    with pytest.raises(ParseError):
        gateway.parse_webhook(b"\x00not json")


def test_charge_refunded_uses_expanded_refunds_when_present(spec):
    refund = dict(spec.document["x-example-refund-fixture"]["value"], metadata={"hub_refund_id": "rf_1"})
    charge = {
        "id": refund["charge"],
        "object": "charge",
        "currency": "usd",
        "amount_refunded": 100,
        "refunds": {"object": "list", "data": [refund], "has_more": False},
    }
    event = shapes.event_json("charge.refunded", charge)
    [parsed] = _parse(event)
    assert (parsed.gateway_refund_id, parsed.hub_refund_id, parsed.outcome) == (refund["id"], "rf_1", Outcome.SUCCEEDED)
    assert parsed.payment_reference == refund["charge"]  # no PaymentIntent on this example refund
    del charge["refunds"]
    assert _parse(shapes.event_json("charge.refunded", charge)) == []


def test_events_about_other_things_yield_nothing():
    assert _parse(shapes.event_json("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})) == []


def _parse(event):
    return parse_events(json.dumps(event).encode())
