"""Square answers the transformers must not misread (bench/mutation.py survivors of
gateways/square/transformers.py): a 2xx RefundPaymentResponse with neither ``refund`` nor
``errors``, a payment and refunds that carry no money object."""

from __future__ import annotations

from gateways.square.transformers import payment_state, refund_response_result, webhook_event
from hub.contracts import Outcome, RefundResult

PAYMENT = {"id": "pay-1", "status": "COMPLETED", "total_money": {"amount": 5000, "currency": "USD"}}


def test_an_empty_2xx_is_unknown_and_says_why():
    assert refund_response_result({}) == RefundResult(
        outcome=Outcome.UNKNOWN, code="empty_response", message="2xx without refund or errors"
    )


def test_a_refund_without_an_amount_counts_nothing_against_the_payment():
    state = payment_state(PAYMENT, [{"id": "r1", "status": "PENDING"}, {"id": "r2", "status": "COMPLETED"}])
    assert (state.captured, state.refunded) == (5000, 0)
    counted = payment_state(
        PAYMENT, [{"id": "r3", "status": "PENDING", "amount_money": {"amount": 700, "currency": "USD"}}]
    )
    assert counted.refunded == 700


def test_a_completed_payment_without_money_has_nothing_captured():
    state = payment_state({"id": "pay-2", "status": "COMPLETED"})
    assert (state.captured, state.refunded, state.currency) == (0, 0, "")
    assert payment_state({"status": "COMPLETED"}).reference == ""


def test_a_refund_event_takes_the_refunds_own_id():
    refund = {"id": "R1", "status": "COMPLETED", "payment_id": "pay-1"}
    event = webhook_event(
        {"type": "refund.updated", "event_id": "e1", "data": {"type": "refund", "object": {"refund": refund}}}
    )
    assert event is not None
    assert (event.gateway_refund_id, event.outcome, event.payment_reference) == ("R1", Outcome.SUCCEEDED, "pay-1")
