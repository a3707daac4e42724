"""PayPal's amount rules: ISO exponents except the currencies PayPal keeps whole."""

from __future__ import annotations

import pytest

from gateways.paypal import money


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [
        (1050, "USD", "10.50"),
        (500, "JPY", "500"),
        (10000, "TWD", "100"),
        (150000, "HUF", "1500"),
        (1250, "KWD", "1.250"),
    ],
)
def test_amounts(minor: int, currency: str, value: str) -> None:
    assert money.to_value(minor, currency) == value
    assert money.to_minor_units(value, currency) == minor


def test_amounts_paypal_refuses() -> None:
    for minor, currency, code in [(1001, "TWD", "DECIMALS_NOT_SUPPORTED"), (0, "USD", "CANNOT_BE_ZERO_OR_NEGATIVE")]:
        with pytest.raises(money.AmountNotAccepted) as caught:
            money.to_value(minor, currency)
        assert caught.value.code == code
    assert money.render(0, "USD") == "0.00"
