"""hub.models.money: exact minor units per ISO 4217, and largest-remainder allocation.

Written against ISO 4217's published exponents (the ``iso4217`` table the module reads) and the
allocation contract in the docstring: parts add up exactly, ties go to the earlier weight.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iso4217 import Currency

from hub.models.money import CurrencyError, allocate, exponent, format_decimal, normalize_currency, to_decimal, to_minor

PROPERTY = settings(max_examples=300, deadline=None, database=None, derandomize=True)

# ISO 4217 minor units, as the standard lists them
ZERO_DECIMAL = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
                "XAF", "XOF", "XPF"]  # fmt: skip
THREE_DECIMAL = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
FOUR_DECIMAL = ["CLF", "UYW"]
# funds, precious metals, testing and "no currency" codes: ISO gives them no minor unit ("N.A.")
NO_MINOR_UNIT = ["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"]


@pytest.mark.parametrize(
    ("codes", "places"), [(ZERO_DECIMAL, 0), (THREE_DECIMAL, 3), (FOUR_DECIMAL, 4), (NO_MINOR_UNIT, 0)]
)
def test_exponent_of_every_non_two_decimal_currency(codes: list[str], places: int) -> None:
    assert {code: exponent(code) for code in codes} == dict.fromkeys(codes, places)


def test_every_other_currency_has_two_places() -> None:
    special = {*ZERO_DECIMAL, *THREE_DECIMAL, *FOUR_DECIMAL, *NO_MINOR_UNIT}
    others = [c.code for c in Currency if c.code not in special]
    assert len(others) > 100
    assert {code for code in others if exponent(code) != 2} == set()
    assert exponent("USD") == exponent("EUR") == exponent("GBP") == 2


def test_exponent_reads_any_spelling() -> None:
    assert exponent(" jpy ") == 0
    assert exponent("kwd") == 3


def test_normalize_currency() -> None:
    assert normalize_currency(" usd ") == "USD"
    assert normalize_currency("Eur") == "EUR"
    with pytest.raises(CurrencyError, match="'ABC'"):
        normalize_currency("ABC")
    with pytest.raises(ValueError, match="unknown ISO 4217 currency"):
        normalize_currency("")


def test_to_decimal_uses_the_currency_exponent() -> None:
    assert to_decimal(12345, "USD") == Decimal("123.45")
    assert to_decimal(500, "JPY") == Decimal(500)
    assert to_decimal(1250, "KWD") == Decimal("1.250")
    assert to_decimal(1, "CLF") == Decimal("0.0001")
    assert to_decimal(7, "XAU") == Decimal(7)
    assert to_decimal(-250, "EUR") == Decimal("-2.50")


def test_places_override_the_iso_exponent() -> None:
    # gateways deviate (Stripe counts HUF in cents, PayPal sends JPY without decimals)
    assert to_decimal(500, "USD", places=0) == Decimal(500)
    assert to_decimal(500, "JPY", places=2) == Decimal("5.00")
    assert to_minor("5", "JPY", places=2) == 500
    assert to_minor("5", "USD", places=0) == 5
    assert format_decimal(500, "JPY", places=2) == "5.00"
    assert format_decimal(500, "USD", places=0) == "500"


def test_to_minor() -> None:
    assert to_minor("1.23", "USD") == 123
    assert to_minor(Decimal("1.230"), "USD") == 123  # a trailing zero needs no rounding
    assert to_minor(5, "USD") == 500
    assert to_minor("500", "JPY") == 500
    assert to_minor("1.250", "KWD") == 1250
    assert to_minor("0", "EUR") == 0
    result = to_minor("19.99", "EUR")
    assert isinstance(result, int)
    assert result == 1999


@pytest.mark.parametrize(("amount", "code"), [("1.234", "USD"), ("500.5", "JPY"), ("1.2345", "KWD"), ("0.001", "EUR")])
def test_to_minor_refuses_to_round(amount: str, code: str) -> None:
    with pytest.raises(CurrencyError, match="decimal places"):
        to_minor(amount, code)


def test_format_decimal_has_exactly_the_currency_places() -> None:
    assert format_decimal(500, "USD") == "5.00"
    assert format_decimal(5, "USD") == "0.05"
    assert format_decimal(500, "JPY") == "500"
    assert format_decimal(1250, "KWD") == "1.250"
    assert format_decimal(10000, "CLF") == "1.0000"


@PROPERTY
@given(minor=st.integers(min_value=0, max_value=10**15), code=st.sampled_from([c.code for c in Currency]))
def test_minor_units_round_trip_through_decimal_and_text(minor: int, code: str) -> None:
    assert to_minor(to_decimal(minor, code), code) == minor
    assert to_minor(format_decimal(minor, code), code) == minor


# ── allocate ────────────────────────────────────────────────────────────────────────────────────


def reference_allocation(total: int, weights: list[int]) -> list[int]:
    """Largest remainder, computed with exact fractions; ties to the earlier weight."""
    weight_sum = sum(weights)
    shares = [Fraction(total * w, weight_sum) for w in weights]
    floors = [int(s // 1) for s in shares]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def test_no_weights_no_parts() -> None:
    assert allocate(100, []) == []


def test_all_zero_weights_give_everything_to_the_first() -> None:
    assert allocate(7, [0, 0, 0]) == [7, 0, 0]
    assert allocate(7, [0]) == [7]
    assert allocate(0, [0, 0]) == [0, 0]


def test_weights_that_sum_to_one() -> None:
    assert allocate(9, [0, 1]) == [0, 9]
    assert allocate(9, [1, 0]) == [9, 0]


def test_the_largest_remainder_gets_the_extra_unit() -> None:
    assert allocate(100, [1, 2]) == [33, 67]  # 33.33 | 66.67
    assert allocate(100, [2, 1]) == [67, 33]
    assert allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocate(5, [1, 1, 1, 1, 1, 1]) == [1, 1, 1, 1, 1, 0]


def test_ties_go_to_the_earlier_weight() -> None:
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(11, [1, 1, 1]) == [4, 4, 3]
    assert allocate(1, [5, 5]) == [1, 0]


def test_exact_shares_need_no_remainder() -> None:
    parts = allocate(1000, [250, 250, 500])
    assert parts == [250, 250, 500]
    assert all(type(p) is int for p in parts)


@PROPERTY
@given(
    total=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8),
)
def test_allocation_adds_up_and_follows_largest_remainder(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(type(p) is int and p >= 0 for p in parts)
    if sum(weights) == 0:
        assert parts == [total] + [0] * (len(weights) - 1)
    else:
        assert parts == reference_allocation(total, weights)
        # no part is more than one unit away from its exact share
        assert all(abs(p - Fraction(total * w, sum(weights))) < 1 for p, w in zip(parts, weights, strict=True))
