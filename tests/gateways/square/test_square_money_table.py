"""gateways.square.transformers against Square's docs: ``Money.amount`` is the smallest denomination
of the currency per ISO 4217 (USD cents, JPY yen, KWD fils, HUF fillér), so hub minor units pass
unchanged for every currency; every ``PaymentRefund.status``; what a payment says of its balance."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iso4217 import Currency

from gateways.square.transformers import (
    CAPTURED_PAYMENT_STATUSES,
    REFUND_EVENT_TYPES,
    compose_reason,
    first_error,
    fit,
    from_money,
    idempotency_key,
    payment_state,
    refund_outcome,
    refund_response_result,
    refund_result,
    to_money,
    webhook_event,
)
from hub.contracts import Outcome

PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=True)


@PROPERTY
@given(amount=st.integers(min_value=1, max_value=10**12), currency=st.sampled_from([c.code for c in Currency]))
def test_minor_units_pass_through_unchanged_for_every_currency(amount: int, currency: str) -> None:
    money = to_money(amount, currency.lower())
    assert money == {"amount": amount, "currency": currency}
    assert from_money(money) == (amount, currency)


@pytest.mark.parametrize(("amount", "currency"), [(500, "JPY"), (1_250, "KWD"), (150_050, "HUF"), (1, "USD")])
def test_documented_examples(amount: int, currency: str) -> None:
    assert to_money(amount, currency)["amount"] == amount


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, "100"])
def test_only_a_positive_integer_is_money_to_refund(amount: object) -> None:
    with pytest.raises(ValueError, match="positive integer of minor units"):
        to_money(amount, "USD")  # type: ignore[arg-type]


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ISO 4217"):
        to_money(100, "ABC")


def test_from_money() -> None:
    assert from_money(None) == (None, None)
    assert from_money({}) == (None, None)
    assert from_money({"amount": 5, "currency": "jpy"}) == (5, "JPY")
    assert from_money({"amount": 5}) == (5, None)
    assert from_money({"amount": 5, "currency": 7}) == (5, None)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("PENDING", Outcome.PENDING), ("COMPLETED", Outcome.SUCCEEDED), ("REJECTED", Outcome.FAILED),
     ("FAILED", Outcome.FAILED), ("completed", Outcome.SUCCEEDED), ("NEW", Outcome.UNKNOWN),
     (None, Outcome.UNKNOWN), ("", Outcome.UNKNOWN)],
)  # fmt: skip
def test_every_refund_status(status: str | None, outcome: Outcome) -> None:
    assert refund_outcome(status) is outcome


def test_a_refund_and_its_errors() -> None:
    refund = {"id": "r1", "status": "FAILED", "amount_money": {"amount": 500, "currency": "JPY"}}
    result = refund_result(refund, [{"code": "CARD_DECLINED", "detail": "declined"}, {"code": "OTHER"}])
    assert (result.outcome, result.gateway_refund_id, result.amount, result.currency) == (
        Outcome.FAILED,
        "r1",
        500,
        "JPY",
    )
    assert (result.code, result.message, result.raw_status) == ("CARD_DECLINED", "declined", "FAILED")
    assert first_error(None) == (None, None)
    assert first_error([]) == (None, None)


def test_a_2xx_refund_response() -> None:
    ok = refund_response_result({"refund": {"id": "r1", "status": "PENDING"}})
    assert (ok.outcome, ok.gateway_refund_id, ok.code) == (Outcome.PENDING, "r1", None)
    declined = refund_response_result({"errors": [{"code": "INSUFFICIENT_FUNDS", "detail": "no"}]})
    assert (declined.outcome, declined.code, declined.message) == (Outcome.FAILED, "INSUFFICIENT_FUNDS", "no")
    empty = refund_response_result({})
    assert (empty.outcome, empty.code) == (Outcome.UNKNOWN, "empty_response")


def test_only_a_completed_payment_has_captured_money() -> None:
    assert {"COMPLETED"} == CAPTURED_PAYMENT_STATUSES
    for status, captured in [("COMPLETED", 5_000), ("completed", 5_000), ("APPROVED", 0), ("CANCELED", 0), (None, 0)]:
        payment = {"id": "p1", "status": status, "total_money": {"amount": 5_000, "currency": "USD"}}
        assert payment_state(payment).captured == captured


def test_the_balance_counts_pending_and_completed_refunds() -> None:
    payment = {
        "id": "p1",
        "status": "COMPLETED",
        "amount_money": {"amount": 4_000, "currency": "usd"},
        "refunded_money": {"amount": 500, "currency": "USD"},
    }
    refunds = [
        {"id": "r1", "status": "PENDING", "amount_money": {"amount": 700, "currency": "USD"}},
        {"id": "r2", "status": "COMPLETED", "amount_money": {"amount": 300, "currency": "USD"}},
        {"id": "r3", "status": "REJECTED", "amount_money": {"amount": 900, "currency": "USD"}},
        {"id": "r4", "status": "FAILED", "amount_money": {"amount": 900, "currency": "USD"}},
    ]
    state = payment_state(payment, refunds)
    assert (state.reference, state.currency, state.captured, state.refunded, state.disputed) == (
        "p1",
        "USD",
        4_000,
        1_000,
        False,
    )
    assert [r.gateway_refund_id for r in state.refunds] == ["r1", "r2", "r3", "r4"]
    assert payment_state({**payment, "refunded_money": {"amount": 2_000, "currency": "USD"}}, refunds).refunded == 2_000
    tip = {**payment, "total_money": {"amount": 4_500, "currency": "USD"}}
    assert payment_state(tip).captured == 4_500  # amount plus tip may be refunded
    assert payment_state({}).currency == ""


def test_refund_webhooks() -> None:
    assert {"refund.created", "refund.updated"} == REFUND_EVENT_TYPES
    payload = {
        "type": "refund.updated",
        "event_id": "e1",
        "data": {
            "id": "r1",
            "object": {
                "refund": {
                    "id": "r1",
                    "status": "COMPLETED",
                    "payment_id": "p1",
                    "amount_money": {"amount": 500, "currency": "JPY"},
                    "reason": "Refund [hub_refund_id=rf_1]",
                }
            },
        },
    }
    event = webhook_event(payload)
    assert event is not None
    assert (event.gateway_refund_id, event.outcome, event.payment_reference) == ("r1", Outcome.SUCCEEDED, "p1")
    assert (event.hub_refund_id, event.amount, event.currency, event.event_id) == ("rf_1", 500, "JPY", "e1")
    assert webhook_event({**payload, "type": "payment.updated"}) is None
    assert webhook_event({"type": "refund.created", "data": {}}) is None
    bare = webhook_event({"type": "refund.created", "data": {"id": "r9"}})
    assert bare is not None
    assert (bare.gateway_refund_id, bare.outcome) == ("r9", Outcome.UNKNOWN)


# ── Square's field limits: idempotency_key at most 45 characters, reason at most 192 ────────────


def reference_fit(value: str, limit: int) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    prefix = "".join(c for c in value if c.isascii() and (c.isalnum() or c in "_.:-"))[: max(0, limit - 33)]
    return f"{prefix}-{digest}" if prefix else digest[:limit]


@pytest.mark.parametrize("value", ["rh-" + "a" * 100, "ä" * 30 + "key/with spaces" * 5, "ü" * 60])
def test_a_long_key_is_cut_to_45_characters_the_same_way_every_time(value: str) -> None:
    key = idempotency_key(value)
    assert key == reference_fit(value, 45)
    assert len(key.encode()) <= 45
    assert idempotency_key(value) == key
    assert idempotency_key("rh-rf_short") == "rh-rf_short"


def test_a_limit_below_the_digest_keeps_only_the_digest() -> None:
    assert fit("a" * 100, 10) == hashlib.sha256(("a" * 100).encode()).hexdigest()[:10]


def test_the_reason_fits_192_characters_and_keeps_the_marker_whole() -> None:
    reason = compose_reason("word " * 100, "rf_1")
    assert len(reason) == 192
    assert reason.endswith(" [hub_refund_id=rf_1]")
    long_id = "r" * 70
    marked = compose_reason("text", long_id)
    assert marked == f"text [hub_refund_id={reference_fit(long_id, 64)}]"
    assert compose_reason("   ", "rf_2") == "[hub_refund_id=rf_2]"
