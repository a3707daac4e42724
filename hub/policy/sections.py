"""Parse each policy section into its frozen config; an absent key takes the default policy's value."""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.models import ReasonCode
from hub.models.money import CurrencyError, normalize_currency
from hub.policy.config import (
    KINDS,
    MERCHANT_FAULT,
    STARTS,
    Amounts,
    CustomerCap,
    Digital,
    Exclusions,
    Fee,
    Patterns,
    Sections,
    Threshold,
    WindowRule,
    Windows,
)
from hub.policy.currencies import Rates
from hub.policy.parsing import REVIEW_OR_DENY, closed, days_within, unique
from hub.policy.schema import Table
from hub.policy.sections_abuse import IDENTITIES, parse_abuse, parse_hard
from hub.policy.sections_rules import parse_alternatives, parse_rules, rule_name

REASONS = tuple(reason.value for reason in ReasonCode)
IGNORED_STATES = ("failed", "denied", "rejected", "cancelled", "canceled")


def parse_sections(root: Table) -> Sections:
    root.raw("version", None)  # read by the loader
    timezone = root.text("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise root.fail(
            "timezone", f"unknown time zone {timezone!r} (use an IANA name such as 'Europe/Berlin')"
        ) from None
    merchant_fault = frozenset(root.texts("merchant_fault_reasons", MERCHANT_FAULT, choices=REASONS))
    history = root.table("history")
    lookback = history.integer("lookback_days", 365, minimum=1)
    ignore_states = frozenset(state.lower() for state in history.texts("ignore_states", IGNORED_STATES))
    history.finish()
    alternatives = parse_alternatives(root.table("alternatives"))
    rates = parse_rates(root.table("currencies"))
    sections = Sections(
        timezone=timezone,
        merchant_fault=merchant_fault,
        windows=parse_windows(root.table("windows")),
        digital=parse_digital(root.table("digital")),
        exclusions=parse_exclusions(root.table("exclusions"), merchant_fault),
        amounts=parse_amounts(root.table("amounts"), lookback, rates),
        shipping=closed(
            root.table("shipping"), lambda t: t.text("refund", "always", choices=("always", "never", "merchant_fault"))
        ),
        fees=tuple(parse_fee(t, merchant_fault, rates) for t in root.tables("fees")),
        abuse=parse_abuse(root.table("abuse"), lookback),
        hard=parse_hard(root.table("hard")),
        lookback_days=lookback,
        ignore_states=ignore_states,
        alternatives=alternatives,
        rules=parse_rules(root.tables("rules"), alternatives),
        rates=rates,
    )
    root.finish()
    unique([fee.name for fee in sections.fees], "fees", "name")
    return sections


def optional_threshold(table: Table, name: str, default: Decimal | None, rates: Rates) -> Threshold | None:
    """A number (in the base currency, converted through ``rates``), a table
    ``{default = 500, JPY = 75000}``, or false for none."""
    if not table.has(name):
        return None if default is None else Threshold(default, rates=rates)
    value = table.raw(name)
    if value is False:
        return None
    if isinstance(value, dict):
        sub = Table(value, table.key(name))
        per_currency: dict[str, Decimal] = {}
        fallback = None
        for code in value:
            amount = sub.number(code)
            if code == "default":
                fallback = amount
                continue
            per_currency[_currency(sub, code)] = amount
        return Threshold(fallback, per_currency, rates)
    return Threshold(table.number(name), rates=rates)


def _currency(table: Table, code: str, key: str | None = None) -> str:
    """``code`` as an ISO 4217 code; the error names ``key`` (default: the code itself, a table key)."""
    try:
        return normalize_currency(code)
    except CurrencyError:
        raise table.fail(key or code, f"{code!r} is not an ISO 4217 currency code") from None


def parse_rates(table: Table) -> Rates:
    """``[currencies]``: ``base`` (the currency of bare amounts), ``rates`` (units of a currency per
    one base unit, e.g. ``{ JPY = 155, KRW = 1380 }``), ``builtin`` (true: coarse magnitudes for
    small-unit currencies the table does not name)."""
    base = table.text("base", None)
    rate_table = table.table("rates")
    rates = {
        _currency(rate_table, code): rate_table.number(code, minimum=Decimal("0.000001")) for code in rate_table.data
    }
    rate_table.finish()
    return closed(
        table,
        lambda t: Rates(
            base=_currency(t, base, "base") if base is not None else None, rates=rates, builtin=t.flag("builtin", True)
        ),
    )


def _window(table: Table, base: WindowRule) -> WindowRule:
    rule = WindowRule(
        days=table.optional_integer("days", base.days),
        start=table.text("start", base.start, choices=STARTS),
        grace_days=table.integer("grace_days", base.grace_days),
    )
    table.finish()
    return rule


def parse_windows(table: Table) -> Windows:
    mode = table.text("mode", "calendar", choices=("calendar", "exact"))
    default = _window(table.table("default"), WindowRule(days=30, start="delivery"))
    kinds = {kind: _window(table.table(kind), default) for kind in KINDS}
    table.finish()
    return Windows(mode=mode, default=default, kinds=kinds)


def parse_digital(table: Table) -> Digital:
    return closed(
        table,
        lambda t: Digital(
            max_downloads=t.optional_integer("max_downloads", 0),
            activations=t.flag("activations", True),
            accessed=t.flag("accessed", True),
            when_used=t.text("when_used", "review", choices=REVIEW_OR_DENY),
            when_unknown=t.text("when_unknown", "approve", choices=("approve", "review")),
        ),
    )


def patterns(table: Table, name: str) -> Patterns:
    values = table.texts(name)
    exact = frozenset(v.casefold() for v in values if not any(c in v for c in "*?["))
    globs = [fnmatch.translate(v.casefold()) for v in values if any(c in v for c in "*?[")]
    return Patterns(exact, re.compile("|".join(f"(?:{g})" for g in globs)) if globs else None, values)


def parse_exclusions(table: Table, merchant_fault: frozenset[str]) -> Exclusions:
    return closed(
        table,
        lambda t: Exclusions(
            final_sale=t.flag("final_sale", True),
            gift_cards=t.flag("gift_cards", True),
            skus=patterns(t, "skus"),
            tags=patterns(t, "tags"),
            kinds=frozenset(t.texts("kinds", (), choices=KINDS)),
            effect=t.text("effect", "deny", choices=REVIEW_OR_DENY),
            review_reasons=frozenset(t.texts("review_reasons", sorted(merchant_fault), choices=REASONS)),
        ),
    )


def parse_amounts(table: Table, lookback: int, rates: Rates) -> Amounts:
    cap_table = table.table("customer_cap")
    customer_cap = None
    if cap_table.data:
        amount = optional_threshold(cap_table, "amount", None, rates)
        if amount is None:
            raise cap_table.fail("amount", "is required")
        customer_cap = CustomerCap(
            amount=amount,
            days=days_within(cap_table, "days", 30, lookback),
            by=cap_table.text("by", "customer", choices=IDENTITIES),
            effect=cap_table.text("effect", "review", choices=("deny", "review", "reduce")),
        )
    cap_table.finish()
    return closed(
        table,
        lambda t: Amounts(
            review_above=optional_threshold(t, "review_above", Decimal(500), rates),
            max_per_refund=optional_threshold(t, "max_per_refund", None, rates),
            cap_effect=t.text("cap_effect", "review", choices=("deny", "review", "reduce")),
            customer_cap=customer_cap,
        ),
    )


def parse_fee(table: Table, merchant_fault: frozenset[str], rates: Rates) -> Fee:
    name = rule_name(table)
    percent = table.number("percent", Decimal(0))
    if percent > 100:
        raise table.fail("percent", "must be <= 100")
    fixed = optional_threshold(table, "fixed", None, rates)
    if not percent and fixed is None:
        raise table.fail("percent", "a fee needs a percent or a fixed amount")
    return closed(
        table,
        lambda t: Fee(
            name=name,
            percent=percent,
            fixed=fixed,
            per=t.text("per", "refund", choices=("refund", "unit")),
            kinds=frozenset(t.texts("kinds", ("physical",), choices=KINDS)),
            waive_reasons=frozenset(t.texts("waive_reasons", sorted(merchant_fault), choices=REASONS)),
        ),
    )
