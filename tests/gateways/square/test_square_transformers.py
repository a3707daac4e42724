"""Pure mappings: statuses, idempotency keys, the hub id in the reason, money, responses, webhook events."""

from __future__ import annotations

import pytest

from gateways.square import transformers as tx
from hub.contracts import Outcome
from hub.models.money import CurrencyError


def test_status_map_is_exactly_squares_four_statuses():
    assert tx.REFUND_STATUS == {
        "PENDING": Outcome.PENDING,
        "COMPLETED": Outcome.SUCCEEDED,
        "REJECTED": Outcome.FAILED,
        "FAILED": Outcome.FAILED,
    }
    assert tx.refund_outcome("SOMETHING_NEW") is Outcome.UNKNOWN
    assert tx.refund_outcome(None) is Outcome.UNKNOWN


@pytest.mark.parametrize("key", ["hub-rf_1", "k" * 45])
def test_short_keys_are_kept(key):
    assert tx.idempotency_key(key) == key


@pytest.mark.parametrize(
    "key", ["k" * 46, "store-42:order-100200300:refund-request-77", "é" * 30, "rückerstattung-" * 5]
)
def test_long_keys_are_derived_stably_within_45_bytes(key):
    derived = tx.idempotency_key(key)
    assert derived == tx.idempotency_key(key)
    assert len(derived.encode()) <= 45
    assert derived != tx.idempotency_key(key + "x")


def test_reason_carries_the_hub_id_and_fits():
    reason = tx.compose_reason("Order 7: damaged   item\nsent back", "rf_abc")
    assert reason == "Order 7: damaged item sent back [hub_refund_id=rf_abc]"
    assert tx.hub_refund_id_from_reason(reason) == "rf_abc"
    long = tx.compose_reason("y" * 1000, "rf_abc")
    assert len(long) <= 192 and tx.hub_refund_id_from_reason(long) == "rf_abc"
    assert tx.compose_reason("", "rf_abc") == "[hub_refund_id=rf_abc]"
    assert tx.hub_refund_id_from_reason("Returned in store") is None
    assert tx.hub_refund_id_from_reason(None) is None
    huge = "rf_" + "z" * 200
    assert tx.reason_matches(tx.compose_reason("t", huge), huge)


@pytest.mark.parametrize(("amount", "currency"), [(500, "jpy"), (1250, "KWD"), (10000, "HUF"), (1, "usd")])
def test_money_passes_minor_units_through(amount, currency):
    assert tx.to_money(amount, currency) == {"amount": amount, "currency": currency.upper()}
    assert tx.from_money(tx.to_money(amount, currency)) == (amount, currency.upper())


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (0, "USD", ValueError),
        (-5, "USD", ValueError),
        (True, "USD", ValueError),
        (1.5, "USD", ValueError),
        (100, "XYZ", CurrencyError),
    ],
)
def test_money_refuses_what_square_would(amount, currency, error):
    with pytest.raises(error):
        tx.to_money(amount, currency)


def test_refund_response_readings():
    refund = {"id": "r1", "status": "COMPLETED", "amount_money": {"amount": 5, "currency": "USD"}}
    assert tx.refund_response_result({"refund": refund}).outcome is Outcome.SUCCEEDED
    warned = tx.refund_response_result({"refund": refund, "errors": [{"code": "W", "detail": "d"}]})
    assert (warned.outcome, warned.code) == (Outcome.SUCCEEDED, "W")
    assert tx.refund_response_result({"errors": [{"code": "X"}]}).outcome is Outcome.FAILED
    assert tx.refund_response_result({}).outcome is Outcome.UNKNOWN


def test_payment_state_counts_pending_refunds_and_takes_the_larger_total():
    payment = {
        "id": "p",
        "status": "COMPLETED",
        "total_money": {"amount": 1000, "currency": "USD"},
        "amount_money": {"amount": 900, "currency": "USD"},
        "refunded_money": {"amount": 100, "currency": "USD"},
    }
    refunds = [
        {"id": "a", "status": "COMPLETED", "amount_money": {"amount": 100, "currency": "USD"}},
        {"id": "b", "status": "PENDING", "amount_money": {"amount": 200, "currency": "USD"}},
        {"id": "c", "status": "FAILED", "amount_money": {"amount": 400, "currency": "USD"}},
    ]
    state = tx.payment_state(payment, refunds)
    assert (state.captured, state.refunded, state.currency) == (1000, 300, "USD")
    assert tx.payment_state({**payment, "refunded_money": {"amount": 700, "currency": "USD"}}).refunded == 700
    assert tx.payment_state({**payment, "status": "APPROVED"}).captured == 0


def test_webhook_event_ignores_other_types_and_refundless_bodies():
    assert tx.webhook_event({"type": "payment.updated"}) is None
    assert tx.webhook_event({"type": "refund.updated", "data": {}}) is None
    event = tx.webhook_event({"type": "refund.created", "event_id": "e", "data": {"id": "r9", "object": {}}})
    assert event is not None and (event.gateway_refund_id, event.outcome) == ("r9", Outcome.UNKNOWN)
