"""gateways.paypal.money and the status tables of gateways.paypal.transformers, against PayPal's
currency codes page (HUF, JPY and TWD "do not support decimals") and the Payments v1/v2 refund
status enums; every currency's amounts round-trip through PayPal's ``value`` strings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.paypal import money
from gateways.paypal.money import AmountNotAccepted, check_value, places, render, to_minor_units, to_value
from gateways.paypal.transformers import (
    REFUND_EVENTS,
    amount_of,
    refunded_from_status,
    v1_refund_result,
    v2_refund_result,
    void_result,
)
from hub.contracts import Outcome
from hub.models.money import exponent

PROPERTY = settings(max_examples=150, deadline=None, database=None, derandomize=True)
# PayPal's supported currencies (developer.paypal.com/reference/currency-codes)
PAYPAL = ["AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN", "TWD", "NZD",
          "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD"]  # fmt: skip


def test_the_no_decimal_currencies() -> None:
    assert {"HUF", "JPY", "TWD"} == money.NO_DECIMALS
    assert {code: places(code) for code in PAYPAL if places(code) != 2} == {"HUF": 0, "JPY": 0, "TWD": 0}
    assert places("huf") == 0
    assert places("KWD") == 3  # any other currency keeps its ISO exponent


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [(150_000, "HUF", "1500"), (10_000, "TWD", "100"), (500, "JPY", "500"), (1_999, "USD", "19.99"),
     (5, "EUR", "0.05"), (1_250, "KWD", "1.250")],
)  # fmt: skip
def test_values(minor: int, currency: str, value: str) -> None:
    assert to_value(minor, currency) == value
    assert render(minor, currency) == value
    assert to_minor_units(value, currency) == minor
    assert check_value(value, currency) == minor


@pytest.mark.parametrize(("minor", "currency"), [(150_050, "HUF"), (1_001, "TWD"), (1, "HUF")])
def test_sub_unit_amounts_of_no_decimal_currencies_cannot_be_sent(minor: int, currency: str) -> None:
    with pytest.raises(AmountNotAccepted) as caught:
        to_value(minor, currency)
    assert caught.value.code == "DECIMALS_NOT_SUPPORTED"
    assert f"{currency}; " in caught.value.message


def test_zero_or_negative_is_refused_but_zero_can_be_rendered() -> None:
    for minor in (0, -5):
        with pytest.raises(AmountNotAccepted) as caught:
            to_value(minor, "USD")
        assert caught.value.code == "CANNOT_BE_ZERO_OR_NEGATIVE"
    assert to_value(1, "USD") == "0.01"
    assert render(0, "HUF") == "0"
    assert render(0, "USD") == "0.00"


@pytest.mark.parametrize(
    ("value", "currency", "code"),
    [("1500.00", "HUF", "DECIMALS_NOT_SUPPORTED"), ("5.5", "JPY", "DECIMALS_NOT_SUPPORTED"),
     ("1.234", "USD", "DECIMAL_PRECISION"), ("abc", "USD", "DECIMAL_PRECISION"),
     ("0", "USD", "CANNOT_BE_ZERO_OR_NEGATIVE"), ("-1.00", "USD", "CANNOT_BE_ZERO_OR_NEGATIVE"),
     ("0.00", "USD", "CANNOT_BE_ZERO_OR_NEGATIVE")],
)  # fmt: skip
def test_check_value_answers_as_paypal_would(value: str, currency: str, code: str) -> None:
    with pytest.raises(AmountNotAccepted) as caught:
        check_value(value, currency)
    assert caught.value.code == code


def test_check_value_accepts_up_to_the_places() -> None:
    assert check_value("1.5", "USD") == 150
    assert check_value("1.250", "KWD") == 1_250
    assert check_value("1500", "HUF") == 150_000


def test_to_minor_units_refuses_what_is_not_an_amount() -> None:
    with pytest.raises(AmountNotAccepted, match="not a valid USD amount") as caught:
        to_minor_units("1.001", "USD")
    assert caught.value.code == "DECIMAL_PRECISION"


@PROPERTY
@given(units=st.integers(min_value=1, max_value=10**9), cents=st.integers(0, 99), currency=st.sampled_from(PAYPAL))
def test_amounts_round_trip_through_paypal(units: int, cents: int, currency: str) -> None:
    minor = units * 10 ** exponent(currency) + (cents if places(currency) == 2 else 0)
    value = to_value(minor, currency)
    assert ("." in value) is (places(currency) > 0)
    assert to_minor_units(value, currency) == minor
    assert check_value(value, currency) == minor


# ── status tables ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("COMPLETED", Outcome.SUCCEEDED), ("PENDING", Outcome.PENDING), ("FAILED", Outcome.FAILED),
     ("CANCELLED", Outcome.FAILED), ("NEW_ONE", Outcome.UNKNOWN), (None, Outcome.UNKNOWN)],
)  # fmt: skip
def test_every_v2_refund_status(status: str | None, outcome: Outcome) -> None:
    assert v2_refund_result({"id": "r1", "status": status}).outcome is outcome


@pytest.mark.parametrize(
    ("state", "outcome"),
    [("completed", Outcome.SUCCEEDED), ("pending", Outcome.PENDING), ("failed", Outcome.FAILED),
     ("cancelled", Outcome.FAILED), ("COMPLETED", Outcome.UNKNOWN), ("other", Outcome.UNKNOWN)],
)  # fmt: skip
def test_every_v1_refund_state(state: str, outcome: Outcome) -> None:
    assert v1_refund_result({"id": "r1", "state": state}).outcome is outcome


def test_a_void_succeeded_only_when_voided() -> None:
    assert void_result({"id": "a1", "status": "VOIDED"}).outcome is Outcome.SUCCEEDED
    for status in ("CREATED", "CAPTURED", "DENIED", "EXPIRED", None):
        assert void_result({"id": "a1", "status": status}).outcome is Outcome.UNKNOWN


def test_refund_results_carry_amount_and_reason() -> None:
    v2 = v2_refund_result(
        {
            "id": "r1",
            "status": "PENDING",
            "amount": {"value": "1500", "currency_code": "HUF"},
            "status_details": {"reason": "ECHECK"},
        }
    )
    assert (v2.gateway_refund_id, v2.amount, v2.currency, v2.raw_status) == ("r1", 150_000, "HUF", "PENDING")
    assert (v2.code, v2.message) == ("ECHECK", "refund pending: ECHECK")
    plain = v2_refund_result({"id": "r2", "status": "COMPLETED", "amount": {"value": "1.00", "currency_code": "usd"}})
    assert (plain.code, plain.message, plain.amount, plain.currency) == (None, None, 100, "USD")
    v1 = v1_refund_result({"id": "r3", "state": "completed", "amount": {"total": "19.99", "currency": "EUR"}})
    assert (v1.amount, v1.currency) == (1_999, "EUR")


def test_amount_of() -> None:
    assert amount_of({"value": "5", "currency_code": "jpy"}, "value", "currency_code") == (5, "JPY")
    assert amount_of({"value": "5.5", "currency_code": "JPY"}, "value", "currency_code") == (None, "JPY")
    assert amount_of({"value": "", "currency_code": "JPY"}, "value", "currency_code") == (None, None)
    assert amount_of({"value": "5"}, "value", "currency_code") == (None, None)
    assert amount_of(None, "value", "currency_code") == (None, None)


def test_refund_events() -> None:
    assert REFUND_EVENTS == {
        "PAYMENT.CAPTURE.REFUNDED": Outcome.SUCCEEDED,
        "PAYMENT.REFUND.PENDING": Outcome.PENDING,
        "PAYMENT.REFUND.COMPLETED": Outcome.SUCCEEDED,
        "PAYMENT.REFUND.FAILED": Outcome.FAILED,
        "PAYMENT.SALE.REFUNDED": Outcome.SUCCEEDED,
    }


@pytest.mark.parametrize(
    ("status", "refunded"),
    [("COMPLETED", 0), ("PENDING", 0), ("REFUNDED", 5_000), ("completed", 0), ("pending", 0), ("refunded", 5_000),
     ("PARTIALLY_REFUNDED", None), ("partially_refunded", None), (None, None)],
)  # fmt: skip
def test_what_a_capture_status_says_of_its_refunds(status: str | None, refunded: int | None) -> None:
    assert refunded_from_status(status, 5_000) == refunded


@pytest.mark.parametrize(("value", "currency"), [("1.234", "USD"), ("1.2.3", "USD"), ("0.0001", "KWD")])
def test_too_many_decimals_are_named_as_paypal_names_them(value: str, currency: str) -> None:
    with pytest.raises(AmountNotAccepted) as caught:
        check_value(value, currency)
    expected = f"{currency} supports {places(currency)} decimal places"
    assert (caught.value.code, caught.value.message, str(caught.value)) == ("DECIMAL_PRECISION", expected, expected)
