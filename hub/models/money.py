"""Exact money: integer minor units plus an ISO 4217 code (invariant 7, docs/architecture.md).

Exponents come from the maintained ``iso4217`` table, never from a hand-written list;
gateway adapters apply their own deviations (Stripe's HUF/TWD, PayPal's no-decimal set).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from iso4217 import Currency


class CurrencyError(ValueError):
    """A currency code the ISO 4217 table does not know, or an amount it cannot express."""


def normalize_currency(code: str) -> str:
    """Upper-case ISO code, validated against the table."""
    try:
        return Currency(code.strip().upper()).code
    except ValueError as exc:
        raise CurrencyError(f"unknown ISO 4217 currency {code!r}") from exc


def exponent(code: str) -> int:
    """Number of decimal places of the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    exp = Currency(normalize_currency(code)).exponent
    return 0 if exp is None else exp


def to_decimal(minor: int, code: str, *, places: int | None = None) -> Decimal:
    """Minor units as a Decimal in major units; ``places`` overrides the ISO exponent."""
    exp = exponent(code) if places is None else places
    return Decimal(minor).scaleb(-exp)


def to_minor(amount: Decimal | str | int, code: str, *, places: int | None = None) -> int:
    """Major-unit amount to minor units, refusing anything that would need rounding."""
    exp = exponent(code) if places is None else places
    value = Decimal(str(amount)).scaleb(exp)
    if value != value.to_integral_value():
        raise CurrencyError(f"{amount} {code} has more than {exp} decimal places")
    return int(value)


def format_decimal(minor: int, code: str, *, places: int | None = None) -> str:
    """A decimal string with exactly the currency's places, e.g. ``"5.00"``, ``"500"``, ``"1.250"``."""
    exp = exponent(code) if places is None else places
    return f"{to_decimal(minor, code, places=exp):.{exp}f}"


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` with the largest-remainder method.

    The parts always add up to ``total`` exactly; ties go to the earlier weight.
    """
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors
