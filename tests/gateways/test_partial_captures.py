"""Payments captured in part, through a whole hub: a WooCommerce order of 30.00 whose card was
authorized for it but captured for less — a Stripe ``amount_to_capture`` below the authorization,
a Stripe multicapture, a Square payment updated down before it was completed. The platform's order
still says 30.00; the gateway holds only what it captured, and the hub never asks it for more: the
request waits for a person, who approves what was captured, and that moves once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hub.errors import OverRefund
from hub.ledger import states
from hub.pipeline.review import review_decision
from tests.connectors.woocommerce.test_woocommerce_through_hub import TOTAL, Paid, World, open_world

CAPTURED = 2000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def stripe_captured_once(world: World) -> Paid:
    intent = world.stripe.create_payment(TOTAL, "USD", capture_method="manual")
    answer = requests.post(
        f"{world.stripe.url}/v1/payment_intents/{intent}/capture",
        data={"amount_to_capture": str(CAPTURED)},
        headers={"Authorization": f"Bearer {world.stripe.api_key}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["amount_received"]) == ("succeeded", CAPTURED)
    return _woo_order(world, intent)


def stripe_captured_twice(world: World) -> Paid:
    intent = world.stripe.create_payment(TOTAL, "USD", capture_method="manual")
    world.stripe.capture(intent, 1500, final=False)
    world.stripe.capture(intent, CAPTURED - 1500)
    return _woo_order(world, intent)


def _woo_order(world: World, intent: str) -> Paid:
    made = world.woo.add_order(payment_method="stripe", transaction_id=world.stripe.charge_of(intent), intent_id=intent)
    return Paid(made, "stripe", intent)


def square_completed_for_less(world: World) -> Paid:
    payment = world.square.create_payment(TOTAL, "USD", status="APPROVED")
    base = f"{world.square.url}/v2/payments/{payment}"
    headers = {"Authorization": f"Bearer {world.square.access_token}"}
    lowered = requests.put(
        base,
        json={"idempotency_key": "lower-1", "payment": {"amount_money": {"amount": CAPTURED, "currency": "USD"}}},
        headers=headers,
        timeout=5,
    )
    assert lowered.status_code == 200, lowered.text
    completed = requests.post(f"{base}/complete", json={}, headers=headers, timeout=5)
    assert completed.status_code == 200, completed.text
    shown = completed.json()["payment"]
    assert (shown["status"], shown["total_money"]["amount"], shown["approved_money"]["amount"]) == (
        "COMPLETED",
        CAPTURED,
        TOTAL,
    )
    made = world.woo.add_order(payment_method="square_credit_card", transaction_id=payment)
    return Paid(made, "square", payment)


@pytest.mark.parametrize("paid_by", [stripe_captured_once, stripe_captured_twice, square_completed_for_less])
def test_a_request_for_the_order_waits_for_a_person_and_what_was_captured_moves_once(world: World, paid_by) -> None:  # type: ignore[no-untyped-def]
    paid = paid_by(world)
    world.woo.request_refund(paid.order["id"], "Changed my mind")
    world.settle()

    [refund] = world.hub.refunds()
    assert refund.amount == TOTAL and refund.state == states.REVIEW  # the order's 30.00, the gateway's 20.00
    assert world.gateway_refunds(paid) == []  # the gateway was never asked for more than it captured
    decided = [a for a in world.hub.audit(refund.id) if a.action == "decided"]
    assert decided and "exceed the refundable balance 2000" in str(decided[-1].detail)

    # a person cannot approve the order's amount either
    with pytest.raises(OverRefund, match="exceed the refundable balance 2000"):
        review_decision(world.hub.hub, refund.id, approve=True, actor="ops@example.com")
    review_decision(world.hub.hub, refund.id, approve=True, actor="ops@example.com", amount=CAPTURED)
    world.settle(until=world.saw("echo_matched"))

    [refund] = world.hub.refunds()
    assert (refund.state, refund.approved_amount) == (states.WRITTEN_BACK, CAPTURED)
    [money] = world.gateway_refunds(paid)
    assert money.amount == CAPTURED and money.key == refund.idempotency_key
    [write] = world.refund_writes()
    assert write["body"]["amount"] == "20.00"

    world.settle()  # nothing more moves
    assert len(world.gateway_refunds(paid)) == 1 and len(world.refund_writes()) == 1


def test_stripe_refuses_a_capture_past_the_authorization_and_a_second_final_capture(world: World) -> None:
    intent = world.stripe.create_payment(TOTAL, "USD", capture_method="manual")
    auth = {"Authorization": f"Bearer {world.stripe.api_key}"}
    url = f"{world.stripe.url}/v1/payment_intents/{intent}"
    shown = requests.get(url, headers=auth, timeout=5).json()
    assert (shown["status"], shown["amount_capturable"], shown["amount_received"]) == ("requires_capture", TOTAL, 0)

    too_much = requests.post(f"{url}/capture", data={"amount_to_capture": str(TOTAL + 1)}, headers=auth, timeout=5)
    assert too_much.status_code == 400 and too_much.json()["error"]["param"] == "amount_to_capture"
    assert requests.post(f"{url}/capture", data={"amount_to_capture": "1000"}, headers=auth, timeout=5).ok
    again = requests.post(f"{url}/capture", headers=auth, timeout=5)
    assert again.status_code == 400 and again.json()["error"]["code"] == "payment_intent_unexpected_state"
    charge = requests.get(f"{world.stripe.url}/v1/charges/{world.stripe.charge_of(intent)}", headers=auth, timeout=5)
    assert (charge.json()["amount"], charge.json()["amount_captured"], charge.json()["captured"]) == (TOTAL, 1000, True)
