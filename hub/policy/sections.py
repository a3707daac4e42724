"""Parse each policy section into its frozen config; an absent key takes the default policy's value."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.models import ReasonCode
from hub.models.money import CurrencyError, normalize_currency
from hub.policy import cel
from hub.policy.config import (
    KINDS,
    MERCHANT_FAULT,
    STARTS,
    Abuse,
    Alternatives,
    Amounts,
    CustomerCap,
    CustomRule,
    Digital,
    Exclusions,
    Fee,
    Hard,
    Patterns,
    People,
    Ratio,
    Sections,
    Threshold,
    Velocity,
    WindowRule,
    Windows,
)
from hub.policy.errors import PolicyError
from hub.policy.history import normalize_email
from hub.policy.schema import Table

REASONS = tuple(reason.value for reason in ReasonCode)
IDENTITIES = ("customer", "email", "payment", "any")
REVIEW_OR_DENY = ("deny", "review")
OFFERABLE = ("window", "final_sale", "exclusion", "gift_card", "digital_used")
CUSTOM_EFFECTS = ("approve", "deny", "review", "offer_alternative", "info")
IGNORED_STATES = ("failed", "denied", "rejected", "cancelled", "canceled")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


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
    sections = Sections(
        timezone=timezone,
        merchant_fault=merchant_fault,
        windows=parse_windows(root.table("windows")),
        digital=parse_digital(root.table("digital")),
        exclusions=parse_exclusions(root.table("exclusions"), merchant_fault),
        amounts=parse_amounts(root.table("amounts"), lookback),
        shipping=_closed(
            root.table("shipping"), lambda t: t.text("refund", "always", choices=("always", "never", "merchant_fault"))
        ),
        fees=tuple(parse_fee(t, merchant_fault) for t in root.tables("fees")),
        abuse=parse_abuse(root.table("abuse"), lookback),
        hard=parse_hard(root.table("hard")),
        lookback_days=lookback,
        ignore_states=ignore_states,
        alternatives=alternatives,
        rules=parse_rules(root.tables("rules"), alternatives),
    )
    root.finish()
    _unique([fee.name for fee in sections.fees], "fees", "name")
    return sections


_T = TypeVar("_T")


def _closed(table: Table, read: Callable[[Table], _T]) -> _T:
    value = read(table)
    table.finish()
    return value


def _unique(names: list[str], key: str, field: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise PolicyError(f"{key}[{i}].{field}", f"{name!r} is used twice")
        seen.add(name)


def optional_threshold(table: Table, name: str, default: Decimal | None) -> Threshold | None:
    """A number (any currency), a table ``{default = 500, JPY = 75000}``, or false for none."""
    if not table.has(name):
        return None if default is None else Threshold(default)
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
            try:
                normalized = normalize_currency(code)
            except CurrencyError:
                raise sub.fail(code, "not an ISO 4217 currency code") from None
            per_currency[normalized] = amount
        return Threshold(fallback, per_currency)
    return Threshold(table.number(name))


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
    return _closed(
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
    return _closed(
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


def parse_amounts(table: Table, lookback: int) -> Amounts:
    cap_table = table.table("customer_cap")
    customer_cap = None
    if cap_table.data:
        amount = optional_threshold(cap_table, "amount", None)
        if amount is None:
            raise cap_table.fail("amount", "is required")
        customer_cap = CustomerCap(
            amount=amount,
            days=_days_within(cap_table, "days", 30, lookback),
            by=cap_table.text("by", "customer", choices=IDENTITIES),
            effect=cap_table.text("effect", "review", choices=("deny", "review", "reduce")),
        )
    cap_table.finish()
    return _closed(
        table,
        lambda t: Amounts(
            review_above=optional_threshold(t, "review_above", Decimal(500)),
            max_per_refund=optional_threshold(t, "max_per_refund", None),
            cap_effect=t.text("cap_effect", "review", choices=("deny", "review", "reduce")),
            customer_cap=customer_cap,
        ),
    )


def _days_within(table: Table, name: str, default: int, lookback: int) -> int:
    days: int = table.integer(name, default, minimum=1)
    if days > lookback:
        raise table.fail(name, f"must be <= history.lookback_days ({lookback}): older refunds are not supplied")
    return days


def parse_fee(table: Table, merchant_fault: frozenset[str]) -> Fee:
    name = _name(table)
    percent = table.number("percent", Decimal(0))
    if percent > 100:
        raise table.fail("percent", "must be <= 100")
    fixed = optional_threshold(table, "fixed", None)
    if not percent and fixed is None:
        raise table.fail("percent", "a fee needs a percent or a fixed amount")
    return _closed(
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


def parse_people(table: Table, *, with_effect: bool) -> tuple[People, str]:
    emails: set[str] = set()
    domains: set[str] = set()
    for i, entry in enumerate(table.texts("emails")):
        if entry.startswith("@"):
            domains.add(entry[1:].strip().lower())
        elif "@" not in entry:
            raise PolicyError(f"{table.key('emails')}[{i}]", "must be an email address or '@domain'")
        else:
            emails.add(normalize_email(entry) or entry)
    people = People(
        emails=frozenset(emails),
        domains=frozenset(domains),
        customers=frozenset(table.texts("customers")),
        payments=frozenset(table.texts("payments")),
    )
    effect = table.text("effect", "deny", choices=REVIEW_OR_DENY) if with_effect else ""
    table.finish()
    return people, effect


def parse_abuse(table: Table, lookback: int) -> Abuse:
    velocity = []
    for t in table.tables("velocity"):
        if t.has("days") == t.has("hours"):
            raise t.fail("days", "give either days or hours")
        if t.has("days"):
            amount, unit, seconds = _days_within(t, "days", 1, lookback), "day", 86_400
        else:
            amount, unit, seconds = t.integer("hours", minimum=1), "hour", 3_600
            if amount > lookback * 24:
                raise t.fail("hours", f"must be <= history.lookback_days ({lookback}) in hours")
        velocity.append(
            Velocity(
                by=t.text("by", "customer", choices=IDENTITIES),
                max=t.integer("max", minimum=1),
                seconds=amount * seconds,
                label=f"{amount} {unit}{'s' if amount != 1 else ''}",
                effect=t.text("effect", "review", choices=REVIEW_OR_DENY),
            )
        )
        t.finish()
    ratio_table = table.table("ratio")
    ratio = None
    if ratio_table.data:
        ratio = Ratio(
            max=ratio_table.number("max"),
            min_orders=ratio_table.integer("min_orders", 3, minimum=1),
            effect=ratio_table.text("effect", "review", choices=REVIEW_OR_DENY),
        )
    ratio_table.finish()
    blocklist, blocklist_effect = parse_people(table.table("blocklist"), with_effect=True)
    allowlist, _ = parse_people(table.table("allowlist"), with_effect=False)
    for attr in ("emails", "domains", "customers", "payments"):
        both = getattr(blocklist, attr) & getattr(allowlist, attr)
        if both:
            raise PolicyError(f"abuse.allowlist.{attr}", f"{sorted(both)[0]!r} is also on the blocklist")
    table.finish()
    return Abuse(tuple(velocity), ratio, blocklist, blocklist_effect or "deny", allowlist)


def parse_hard(table: Table) -> Hard:
    return _closed(
        table,
        lambda t: Hard(
            dispute=t.text("dispute", "deny", choices=REVIEW_OR_DENY),
            currency_mismatch=t.text("currency_mismatch", "review", choices=REVIEW_OR_DENY),
            over_refundable=t.text("over_refundable", "review", choices=REVIEW_OR_DENY),
        ),
    )


def parse_alternatives(table: Table) -> Alternatives:
    offer = table.text("offer", None, choices=("store_credit", "exchange"))
    instead_of = frozenset(table.texts("instead_of", ("window",), choices=OFFERABLE))
    within = table.optional_integer("within_days", None, minimum=1)
    table.finish()
    return Alternatives(offer=offer, instead_of=instead_of, within_days=within)


def _name(table: Table) -> str:
    """A name that becomes part of a rule id (``fee.restocking``, ``custom.vip``)."""
    name: str = table.text("name")
    if not _NAME.fullmatch(name):
        raise table.fail("name", "use letters, digits, '-', '_' or '.' (at most 64)")
    return name


def parse_rules(tables: list[Table], alternatives: Alternatives) -> tuple[CustomRule, ...]:
    rules = []
    for t in tables:
        name = _name(t)
        effect = t.text("effect", choices=CUSTOM_EFFECTS)
        if effect == "offer_alternative" and alternatives.offer is None:
            raise t.fail("effect", "offer_alternative needs alternatives.offer (store_credit or exchange)")
        when = t.text("when")
        program, used, names = cel.compile_rule(t.key("when"), name, when)
        cel.check_rule(t.key("when"), name, program)
        rules.append(
            CustomRule(
                name=name,
                when=when,
                effect=effect,
                message=t.text("message", ""),
                program=program,
                uses=used,
                names=names,
            )
        )
        t.finish()
    _unique([rule.name for rule in rules], "rules", "name")
    return tuple(rules)
