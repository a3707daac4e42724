"""The parsed, validated policy sections: plain frozen data the rules read at decision time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from hub.models import ProductKind
from hub.models.money import exponent
from hub.policy.currencies import DEFAULT_RATES, Rates

if TYPE_CHECKING:
    from hub.policy.cel import Program

KINDS: tuple[str, ...] = tuple(kind.value for kind in ProductKind)
STARTS: tuple[str, ...] = ("order", "payment", "fulfillment", "delivery")
# When the chosen start date is unknown the window counts from the next earlier event we know.
START_FALLBACK: dict[str, tuple[str, ...]] = {
    "delivery": ("delivery", "fulfillment", "payment", "order"),
    "fulfillment": ("fulfillment", "payment", "order"),
    "payment": ("payment", "order"),
    "order": ("order",),
}
MERCHANT_FAULT: tuple[str, ...] = ("damaged", "defective", "not_as_described", "wrong_item", "not_received")


@lru_cache(maxsize=512)
def places(currency: str) -> int:
    """The ISO 4217 exponent, looked up once per currency (the table lookup is not free)."""
    return exponent(currency)


@lru_cache(maxsize=4096)
def threshold_minor(value: Decimal, currency: str) -> int:
    """A major-unit threshold in the currency's minor units, rounded half up."""
    return int(value.scaleb(places(currency)).to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True)
class Threshold:
    """An amount in major units: per currency where the policy names one, else ``default`` (in
    the policy's base currency) converted through ``rates`` (``hub.policy.currencies``)."""

    default: Decimal | None
    per_currency: Mapping[str, Decimal] = field(default_factory=dict)
    rates: Rates = DEFAULT_RATES

    def major(self, currency: str) -> Decimal | None:
        """The effective amount in ``currency``'s major units (None: no limit there)."""
        if currency in self.per_currency:
            return self.per_currency[currency]
        return None if self.default is None else self.default * self.rates.factor(currency)

    def minor(self, currency: str) -> int | None:
        value = self.major(currency)
        return None if value is None else threshold_minor(value, currency)


@dataclass(frozen=True)
class WindowRule:
    days: int | None  # None: no time limit
    start: str
    grace_days: int = 0


@dataclass(frozen=True)
class Windows:
    mode: str  # "calendar" (ends at local midnight) | "exact" (N x 24 h)
    default: WindowRule
    kinds: Mapping[str, WindowRule]  # every product kind, resolved against the default

    def for_kind(self, kind: str) -> WindowRule:
        return self.kinds.get(kind, self.default)


@dataclass(frozen=True)
class Digital:
    max_downloads: int | None  # more downloads than this count as use; None ignores downloads
    activations: bool
    accessed: bool
    when_used: str  # deny | review
    when_unknown: str  # approve | review


@dataclass(frozen=True)
class Patterns:
    """Exact names and shell-style globs (``CLEAR-*``), matched case-insensitively."""

    exact: frozenset[str] = frozenset()
    glob: re.Pattern[str] | None = None
    source: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.source)

    def match(self, value: str | None) -> bool:
        if not value:
            return False
        folded = value.casefold()
        return folded in self.exact or (self.glob is not None and self.glob.fullmatch(folded) is not None)


@dataclass(frozen=True)
class Exclusions:
    final_sale: bool
    gift_cards: bool
    skus: Patterns
    tags: Patterns
    kinds: frozenset[str]
    effect: str  # deny | review
    review_reasons: frozenset[str]  # an excluded line reported with one of these goes to review


@dataclass(frozen=True)
class CustomerCap:
    amount: Threshold
    days: int
    by: str
    effect: str


@dataclass(frozen=True)
class Amounts:
    review_above: Threshold | None
    max_per_refund: Threshold | None
    cap_effect: str  # deny | review | reduce
    customer_cap: CustomerCap | None


@dataclass(frozen=True)
class Fee:
    name: str
    percent: Decimal
    fixed: Threshold | None
    per: str  # refund | unit
    kinds: frozenset[str]
    waive_reasons: frozenset[str]

    @cached_property
    def percent_text(self) -> str:
        return f"{self.percent.normalize():f}%"


@dataclass(frozen=True)
class Velocity:
    by: str  # customer | email | payment | any
    max: int
    seconds: int
    label: str  # "30 days", "12 hours"
    effect: str


@dataclass(frozen=True)
class Ratio:
    max: Decimal
    min_orders: int
    effect: str


@dataclass(frozen=True)
class People:
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()
    payments: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.emails or self.domains or self.customers or self.payments)


@dataclass(frozen=True)
class Abuse:
    velocity: tuple[Velocity, ...]
    ratio: Ratio | None
    blocklist: People
    blocklist_effect: str
    allowlist: People


@dataclass(frozen=True)
class Hard:
    dispute: str
    currency_mismatch: str
    over_refundable: str


@dataclass(frozen=True)
class Alternatives:
    offer: str | None  # store_credit | exchange; None: never offered
    instead_of: frozenset[str]  # which denials become offers
    within_days: int | None  # window denials: only this many days after the window closed

    def offers(self, category: str) -> bool:
        """Whether a denial of this kind becomes an offer of store credit or an exchange."""
        return self.offer is not None and category in self.instead_of


@dataclass(frozen=True)
class CustomRule:
    name: str
    when: str
    effect: str
    message: str
    program: Program  # compiled once at load
    uses: frozenset[str]  # the CEL variables the expression reads
    names: frozenset[str]  # every word of the expression: the only map keys it can reach


@dataclass(frozen=True)
class Sections:
    """Everything a policy says, validated; ``Policy`` wraps it with its version."""

    timezone: str
    merchant_fault: frozenset[str]
    windows: Windows
    digital: Digital
    exclusions: Exclusions
    amounts: Amounts
    shipping: str  # always | never | merchant_fault
    fees: tuple[Fee, ...]
    abuse: Abuse
    hard: Hard
    lookback_days: int
    ignore_states: frozenset[str]
    alternatives: Alternatives
    rules: tuple[CustomRule, ...]
    rates: Rates = DEFAULT_RATES
