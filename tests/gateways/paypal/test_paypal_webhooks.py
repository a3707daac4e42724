"""Status webhooks: signed by the simulator, verified through PayPal's API, parsed into events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateways.paypal.webhooks import VerificationUnavailable
from hub.contracts import Outcome
from hub.errors import MalformedBody, ParseError, SignatureInvalid
from hub.testing.signing import inbound


def _events(gateway, inbox_items):  # type: ignore[no-untyped-def]
    return [event for item in inbox_items for event in gateway.parse_webhook(item.body)]


def _verify_calls(sim):  # type: ignore[no-untyped-def]
    return [e for e in sim.exchanges if e["path"] == "/v1/notifications/verify-webhook-signature"]


def test_pending_then_completed_via_webhooks(slow_sim, gateway, execution, inbox, as_lookup) -> None:  # type: ignore[no-untyped-def]
    capture = slow_sim.create_payment(10000, "USD")
    made = execution(capture, 2500)
    result = gateway.refund(made)
    assert (result.outcome, result.code, result.raw_status) == (Outcome.PENDING, "ECHECK", "PENDING")
    delivered = inbox.wait_for(2)
    topics = [gateway.verify_webhook(item).topic for item in delivered]
    assert topics == ["PAYMENT.REFUND.PENDING", "PAYMENT.CAPTURE.REFUNDED"]
    pending, completed = _events(gateway, delivered)
    assert (pending.outcome, completed.outcome) == (Outcome.PENDING, Outcome.SUCCEEDED)
    assert (completed.gateway_refund_id, completed.hub_refund_id, completed.payment_reference) == (
        result.gateway_refund_id,
        made.hub_refund_id,
        capture,
    )
    assert (completed.amount, completed.currency) == (2500, "USD") and completed.event_id
    later = gateway.get_refund(as_lookup(made, gateway_refund_id=result.gateway_refund_id))
    assert later is not None and later.outcome is Outcome.SUCCEEDED


def test_refund_failing_after_pending(slow_sim, gateway, execution, inbox) -> None:  # type: ignore[no-untyped-def]
    capture = slow_sim.create_payment(10000, "USD")
    slow_sim.ledger.fail_next_refunds = 1
    gateway.refund(execution(capture, 2500))
    delivered = inbox.wait_for(2)
    assert gateway.verify_webhook(delivered[1]).topic == "PAYMENT.REFUND.FAILED"
    assert _events(gateway, delivered)[1].outcome is Outcome.FAILED


def test_dashboard_refund_has_no_hub_id(sim, gateway, inbox) -> None:  # type: ignore[no-untyped-def]
    capture = sim.create_payment(10000, "USD")
    refund_id = sim.add_dashboard_refund(capture, 700)
    [item] = inbox.wait_for(1)
    assert gateway.verify_webhook(item).topic == "PAYMENT.CAPTURE.REFUNDED"
    [event] = gateway.parse_webhook(item.body)
    assert (event.gateway_refund_id, event.hub_refund_id, event.payment_reference, event.amount) == (
        refund_id,
        None,
        capture,
        700,
    )


def test_v1_sale_refund_webhook(sim, gateway, execution, inbox) -> None:  # type: ignore[no-untyped-def]
    sale = sim.create_payment(10000, "USD", kind="sale")
    made = execution(sale, 1500, payment_extra={"paypal_api": "v1"})
    gateway.refund(made)
    [item] = inbox.wait_for(1)
    assert gateway.verify_webhook(item).topic == "PAYMENT.SALE.REFUNDED"
    [event] = gateway.parse_webhook(item.body)
    assert (event.outcome, event.hub_refund_id, event.payment_reference, event.amount) == (
        Outcome.SUCCEEDED,
        made.hub_refund_id,
        sale,
        1500,
    )


def test_void_webhook_is_not_a_refund_event(sim, gateway, execution, inbox) -> None:  # type: ignore[no-untyped-def]
    authorization = sim.create_payment(500, "USD", kind="authorization")
    gateway.refund(execution(authorization, 500, payment_extra={"intent": "AUTHORIZE"}))
    [item] = inbox.wait_for(1)
    assert gateway.verify_webhook(item).topic == "PAYMENT.AUTHORIZATION.VOIDED"
    assert gateway.parse_webhook(item.body) == []


def _signed(sim, **sign):  # type: ignore[no-untyped-def]
    capture = sim.create_payment(1000, "USD")
    sim.add_dashboard_refund(capture, 100)
    body, _ = sim.outbox[-1]
    return body, sim.sign(body, **sign)


def test_signature_correct_is_verified(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    body, headers = _signed(sim)
    verified = gateway.verify_webhook(inbound(body, headers))
    event = json.loads(body)
    assert (verified.store_id, verified.topic, verified.dedupe_key) == ("paypal-main", event["event_type"], event["id"])
    [call] = _verify_calls(sim)
    assert body in call["body"]  # spliced byte for byte, not re-serialised


def test_tampered_body_or_signature_is_refused(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    body, headers = _signed(sim)
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(inbound(body.replace(b'"value": "1.00"', b'"value": "9.00"'), headers))
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(
            inbound(json.dumps(json.loads(body), indent=1).encode(), headers)
        )  # same JSON, new bytes
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(inbound(body, {**headers, "PAYPAL-TRANSMISSION-SIG": "bm90IGEgc2lnbmF0dXJl"}))
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(inbound(body, {**headers, "PAYPAL-CERT-URL": "https://evil.example/cert.pem"}))
    with pytest.raises(SignatureInvalid, match="PAYPAL-TRANSMISSION-ID"):
        gateway.verify_webhook(inbound(body, {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-ID"}))


def test_expired_transmission_is_refused_without_asking(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    body, headers = _signed(sim, when=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(SignatureInvalid, match="tolerance"):
        gateway.verify_webhook(inbound(body, headers))
    assert _verify_calls(sim) == []


def test_previous_webhook_id_during_rotation(sim, make_gateway) -> None:  # type: ignore[no-untyped-def]
    old_id = sim.webhook_id
    body, headers = _signed(sim)  # signed for the webhook about to be replaced
    new_id = sim.rotate_webhook_id()
    rotating = make_gateway(sim, webhook_id=new_id, previous_webhook_id=old_id)
    assert rotating.verify_webhook(inbound(body, headers)).topic == "PAYMENT.CAPTURE.REFUNDED"
    with pytest.raises(SignatureInvalid):
        make_gateway(sim, webhook_id=new_id).verify_webhook(inbound(body, headers))
    fresh_body, fresh_headers = _signed(sim)
    assert rotating.verify_webhook(inbound(fresh_body, fresh_headers)).topic == "PAYMENT.CAPTURE.REFUNDED"


def test_unverifiable_deliveries(sim, gateway, make_gateway) -> None:  # type: ignore[no-untyped-def]
    body, headers = _signed(sim)
    with pytest.raises(MalformedBody):
        gateway.verify_webhook(inbound(b"not json", headers))
    with pytest.raises(SignatureInvalid, match="no webhook_id"):
        make_gateway(sim, webhook_id="").verify_webhook(inbound(body, headers))
    sim.faults.add("error", status=503, path="verify-webhook-signature")
    with pytest.raises(VerificationUnavailable) as caught:
        gateway.verify_webhook(inbound(body, headers))
    assert caught.value.status == 503


def test_parse_rejects_junk_and_ignores_other_events(gateway) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError):
        gateway.parse_webhook(b"\x00junk")
    assert (
        gateway.parse_webhook(
            json.dumps({"id": "WH-1", "event_type": "CHECKOUT.ORDER.APPROVED", "resource": {"id": "O"}}).encode()
        )
        == []
    )


def test_hostile_bodies_are_a_400_and_never_reach_paypal(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    _, headers = _signed(sim)
    for hostile in (b"[" * 100_000, b'{"id": ' + b"9" * 5000 + b"}", b"\xff\xfe", b'{}, "webhook_id": "WH-mine"'):
        with pytest.raises(MalformedBody):
            gateway.verify_webhook(inbound(hostile, headers))
    assert _verify_calls(sim) == []  # the splice only ever carries one JSON value


def test_shape_is_read_only_after_paypal_vouched(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    _, headers = _signed(sim)
    unsigned_shapeless = json.dumps({"event_type": 7}).encode()  # JSON, but not an event, and not PayPal's
    with pytest.raises(SignatureInvalid):  # an attacker learns nothing about which shapes the hub reads
        gateway.verify_webhook(inbound(unsigned_shapeless, headers))
    assert len(_verify_calls(sim)) == 1
    signed_shapeless = json.dumps({"id": "WH-x", "event_type": ["PAYMENT.CAPTURE.REFUNDED"]}).encode()
    with pytest.raises(MalformedBody, match="event_type"):
        gateway.verify_webhook(inbound(signed_shapeless, sim.sign(signed_shapeless)))


def test_a_signature_that_is_not_ascii_is_refused_not_unavailable(sim, gateway) -> None:  # type: ignore[no-untyped-def]
    """Fuzz finding: PayPal answers a forged signature FAILURE whatever its characters; the
    simulator answered 500 to 'café' (and the hub, rightly, 503 to a PayPal that errs)."""
    body, headers = _signed(sim)
    with pytest.raises(SignatureInvalid):
        gateway.verify_webhook(inbound(body, {**headers, "PAYPAL-TRANSMISSION-SIG": "café"}))
