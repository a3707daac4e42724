"""gateways.stripe.transformers against Stripe's own tables (docs.stripe.com/currencies and
docs.stripe.com/api/refunds/object): every zero-decimal currency, every three-decimal one, the special
cases (ISK sent with two decimals in multiples of 100; HUF and TWD two-decimal for charges and
refunds), every refund status, and the fields a refund object, an event and a charge carry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.stripe.transformers import (
    AmountNotRepresentable,
    events_of,
    from_stripe_amount,
    hub_amount,
    outcome_of,
    payment_state,
    refund_event,
    refund_params,
    refund_result,
    stripe_units,
    target,
    to_stripe_amount,
)
from hub.contracts import Execution, Outcome
from hub.models.money import exponent

PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=True)

# docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
                "XAF", "XOF", "XPF"]  # fmt: skip
# docs.stripe.com/currencies#three-decimal: minor units, the last digit must be 0
THREE_DECIMAL = ["BHD", "JOD", "KWD", "OMR", "TND"]


@pytest.mark.parametrize("currency", ZERO_DECIMAL)
def test_zero_decimal_currencies_are_sent_in_whole_units(currency: str) -> None:
    assert stripe_units(currency) == (0, 1)
    whole = 10 ** exponent(currency)  # one unit in hub (ISO) minor units
    assert to_stripe_amount(500 * whole, currency) == 500  # ¥500 is 500
    assert from_stripe_amount(500, currency) == 500 * whole
    assert to_stripe_amount(500 * whole, currency.lower()) == 500


def test_mga_has_two_iso_places_but_is_whole_at_stripe() -> None:
    assert exponent("MGA") == 2
    assert to_stripe_amount(50_000, "MGA") == 500
    assert from_stripe_amount(500, "MGA") == 50_000
    assert type(to_stripe_amount(50_000, "MGA")) is int
    for fraction in (50_050, 50_020, 50_001):  # any sub-unit part is refused, never rounded away
        with pytest.raises(AmountNotRepresentable, match="not a whole amount"):
            to_stripe_amount(fraction, "MGA")


@pytest.mark.parametrize("currency", THREE_DECIMAL)
def test_three_decimal_currencies_need_a_final_zero(currency: str) -> None:
    assert stripe_units(currency) == (3, 10)
    assert to_stripe_amount(5_120, currency) == 5_120
    assert from_stripe_amount(5_120, currency) == 5_120
    with pytest.raises(AmountNotRepresentable, match="multiples of 10"):
        to_stripe_amount(5_124, currency)  # 5.124 KWD must be 5.120 or 5.130


def test_isk_is_whole_but_sent_with_two_decimals_in_hundreds() -> None:
    assert exponent("ISK") == 0
    assert stripe_units("ISK") == (2, 100)
    assert to_stripe_amount(5, "ISK") == 500  # 5 ISK is 500
    assert from_stripe_amount(500, "ISK") == 5
    assert type(from_stripe_amount(500, "ISK")) is int
    for fraction in (550, 520, 501):  # sub-unit digits Stripe should never send are refused
        with pytest.raises(AmountNotRepresentable, match="sub-unit digits"):
            from_stripe_amount(fraction, "ISK")
    assert hub_amount(550, "isk") is None


@pytest.mark.parametrize("currency", ["HUF", "TWD"])
def test_huf_and_twd_are_two_decimal_for_refunds(currency: str) -> None:
    assert stripe_units(currency) == (2, 1)
    assert to_stripe_amount(150_050, currency) == 150_050
    assert from_stripe_amount(150_050, currency) == 150_050


@pytest.mark.parametrize(("currency", "places"), [("USD", 2), ("EUR", 2), ("IQD", 3), ("CLF", 4), ("XAU", 0)])
def test_other_currencies_use_the_iso_exponent(currency: str, places: int) -> None:
    assert stripe_units(currency) == (places, 1)
    assert to_stripe_amount(1_999, currency) == 1_999
    assert from_stripe_amount(1_999, currency) == 1_999


def test_an_unknown_currency_is_not_representable() -> None:
    with pytest.raises(AmountNotRepresentable, match="unknown ISO 4217"):
        to_stripe_amount(100, "ABC")
    with pytest.raises(AmountNotRepresentable):
        from_stripe_amount(100, "ABC")
    assert hub_amount(100, "ABC") is None


def test_hub_amount_reads_only_integer_amounts_with_a_currency() -> None:
    assert hub_amount(1_000, "usd") == 1_000
    assert hub_amount(5, "jpy") == 5
    assert hub_amount(None, "usd") is None
    assert hub_amount("1000", "usd") is None
    assert hub_amount(10.0, "usd") is None
    assert hub_amount(1_000, None) is None
    assert hub_amount(1_000, "") is None


STRIPE_TABLE = [*ZERO_DECIMAL, *THREE_DECIMAL, "ISK", "HUF", "TWD", "USD", "EUR", "IQD"]


@PROPERTY
@given(units=st.integers(min_value=1, max_value=10**9), currency=st.sampled_from(STRIPE_TABLE))
def test_whole_units_round_trip_through_stripe(units: int, currency: str) -> None:
    minor = units * 10 ** exponent(currency)  # a whole amount is always representable
    sent = to_stripe_amount(minor, currency)
    places, step = stripe_units(currency)
    assert sent == units * 10**places
    assert sent % step == 0
    assert from_stripe_amount(sent, currency) == minor


# ── statuses ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("pending", Outcome.PENDING),
        ("requires_action", Outcome.PENDING),  # waits on the customer: not final
        ("succeeded", Outcome.SUCCEEDED),
        ("failed", Outcome.FAILED),
        ("canceled", Outcome.FAILED),  # a canceled refund moved no money
        ("something_new", Outcome.UNKNOWN),  # a status added later: ask again, never a failure
        (None, Outcome.UNKNOWN),
        ("", Outcome.UNKNOWN),
    ],
)
def test_every_refund_status(status: str | None, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome
    assert refund_result({"id": "re_1", "status": status}).outcome is outcome


# ── refund objects, events, charges ─────────────────────────────────────────────────────────────


def test_a_refund_object() -> None:
    result = refund_result(
        {
            "id": "re_1",
            "status": "failed",
            "amount": 500,
            "currency": "jpy",
            "failure_reason": "expired_or_canceled_card",
        }
    )
    assert (result.gateway_refund_id, result.amount, result.currency, result.raw_status) == (
        "re_1",
        500,
        "JPY",
        "failed",
    )
    assert result.code == "expired_or_canceled_card"
    assert result.message == "Stripe refund failed: expired_or_canceled_card"
    pending = refund_result({"id": "re_2", "status": "pending", "pending_reason": "processing"})
    assert (pending.code, pending.message, pending.currency, pending.amount) == (
        "processing",
        "Stripe refund pending: processing",
        None,
        None,
    )
    assert refund_result({"id": "re_3", "status": "succeeded"}).message == "Stripe refund succeeded"


def test_refund_params() -> None:
    execution = Execution(
        hub_refund_id="rf_1",
        idempotency_key="rh-rf_1",
        payment_reference="pi_1",
        amount=500,
        currency="USD",
        reason="fraud",
        order_id="o-1",
        source_ref="",
    )
    assert refund_params(execution, "payment_intent", "pi_1", 500) == {
        "payment_intent": "pi_1",
        "amount": 500,
        "reason": "fraudulent",
        "metadata": {"hub_refund_id": "rf_1", "order_id": "o-1"},  # empty values are left out
    }
    long = Execution("rf_2", "k", "ch_1", 1, "USD", reason="duplicate", order_id="x" * 600, source_ref="s")
    params = refund_params(long, "charge", "ch_1", 1)
    assert params["reason"] == "duplicate"
    assert params["metadata"]["order_id"] == "x" * 500  # Stripe's metadata values hold 500 characters
    assert params["metadata"]["source_ref"] == "s"
    for reason in ("damaged", "requested_by_customer", "fraudulent"):
        other = Execution("rf_3", "k", "ch_1", 1, "USD", reason=reason)
        expected = "fraudulent" if reason == "fraudulent" else "requested_by_customer"
        assert refund_params(other, "charge", "ch_1", 1)["reason"] == expected


def test_target() -> None:
    assert target("ch_1", {"stripe_intent_id": "pi_9"}) == ("payment_intent", "pi_9")
    assert target("pi_1") == ("payment_intent", "pi_1")
    assert target("ch_1", {"stripe_intent_id": "not-an-intent"}) == ("charge", "ch_1")
    assert target("py_1") == ("charge", "py_1")
    assert target("txn_1") is None
    assert target("txn_1", None) is None


def test_a_refund_event_names_the_payment_and_the_hub_refund() -> None:
    refund = {
        "id": "re_1",
        "object": "refund",
        "status": "succeeded",
        "amount": 1000,
        "currency": "usd",
        "payment_intent": {"id": "pi_1"},
        "charge": "ch_1",
        "metadata": {"hub_refund_id": "rf_1"},
    }
    event = refund_event(refund, "evt_1")
    assert (event.gateway_refund_id, event.outcome, event.payment_reference) == ("re_1", Outcome.SUCCEEDED, "pi_1")
    assert (event.hub_refund_id, event.amount, event.currency, event.event_id) == ("rf_1", 1000, "USD", "evt_1")
    by_charge = refund_event({**refund, "payment_intent": None, "metadata": {}}, None)
    assert (by_charge.payment_reference, by_charge.hub_refund_id) == ("ch_1", None)
    expanded_charge = refund_event({**refund, "payment_intent": "", "charge": {"id": "ch_2"}}, None)
    assert expanded_charge.payment_reference == "ch_2"


def test_events_of() -> None:
    refund = {"id": "re_1", "object": "refund", "status": "pending"}
    assert [(e.gateway_refund_id, e.event_id) for e in events_of({"id": "evt", "data": {"object": refund}})] == [
        ("re_1", "evt")
    ]
    charge = {"object": "charge", "refunds": {"data": [{"id": "re_2", "status": "succeeded"}, {"status": "x"}, "re_3"]}}
    assert [(e.gateway_refund_id, e.event_id) for e in events_of({"id": "evt", "data": {"object": charge}})] == [
        ("re_2", "evt")
    ]
    assert events_of({"data": {"object": {"object": "charge"}}}) == []  # refunds not expanded
    assert events_of({"data": {"object": {"object": "payment_intent"}}}) == []
    assert events_of({}) == []


def test_payment_state() -> None:
    charge = {"currency": "isk", "amount_captured": 50_000, "amount_refunded": 10_000, "disputed": True}
    state = payment_state("pi_1", charge, "isk")
    assert (state.reference, state.currency, state.captured, state.refunded, state.disputed) == (
        "pi_1",
        "ISK",
        500,
        100,
        True,
    )
    bare = payment_state("pi_2", None, "usd")
    assert (bare.currency, bare.captured, bare.refunded, bare.disputed) == ("USD", 0, 0, False)
    empty = payment_state("pi_3", {"currency": "usd"}, "usd")
    assert (empty.captured, empty.refunded, empty.disputed) == (0, 0, False)
