"""The money thresholds as they apply in each currency, for ``refund-hub policy check``.

A bare amount is converted (``hub.policy.currencies``), so what "500" means in yen is not
visible in the file; this lists it: one line per currency the policy treats differently from one
to one, then the line every other currency follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.models.money import format_decimal
from hub.policy.config import Threshold

if TYPE_CHECKING:
    from hub.policy.policy import Policy

OTHERS = "other currencies"
NOBODY = "XXX"  # ISO 4217's "no currency": named by no rate table, so it shows what the rest get


def thresholds(policy: Policy) -> list[tuple[str, Threshold]]:
    """Every money threshold of the policy, by the name it has in the file."""
    s = policy.sections
    found: list[tuple[str, Threshold | None]] = [
        ("amounts.review_above", s.amounts.review_above),
        ("amounts.max_per_refund", s.amounts.max_per_refund),
        ("amounts.customer_cap.amount", s.amounts.customer_cap.amount if s.amounts.customer_cap else None),
    ]
    found += [(f"fees.{fee.name}.fixed", fee.fixed) for fee in s.fees]
    return [(name, threshold) for name, threshold in found if threshold is not None]


def _shown(threshold: Threshold, currency: str | None) -> str:
    if currency is None:  # a currency nobody names
        value = threshold.major(NOBODY)
        return "no limit" if value is None else f"{value.normalize():f}"
    minor = threshold.minor(currency)
    return "no limit" if minor is None else format_decimal(minor, currency)


def currency_lines(policy: Policy) -> list[str]:
    """``JPY: amounts.review_above 75000, fees.handling.fixed 375`` …, then the other currencies."""
    named = thresholds(policy)
    if not named:
        return []
    codes = set(policy.sections.rates.named())
    for _, threshold in named:
        codes |= set(threshold.per_currency)
    lines = [
        f"{code}: " + ", ".join(f"{name} {_shown(threshold, code)}" for name, threshold in named)
        for code in sorted(codes)
    ]
    lines.append(f"{OTHERS}: " + ", ".join(f"{name} {_shown(threshold, None)}" for name, threshold in named))
    return lines
