"""Evaluate the merchant's custom CEL rules against the request, its history and derived facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.policy import cel
from hub.policy.config import CustomRule
from hub.policy.context import GUARD, SOFT, Context, Hit
from hub.policy.unknowns import custom_unknown

DEFAULT_MESSAGES = {
    "deny": "This request doesn't meet our refund policy.",
    "review": "",
    "offer_alternative": "",
    "approve": "",
    "info": "",
}


def check_custom(ctx: Context) -> list[str]:
    """Append the hits of the custom rules that fired; return the names of firing ``approve`` rules."""
    rules = ctx.sections.rules
    if not rules:
        return []
    rule_set = _rule_set(rules)
    missing: set[str] = set()
    outcomes = cel.evaluate_together(
        rule_set.together, [rule.program for rule in rules], _values(ctx, rule_set.uses, rule_set.names, missing)
    )
    approvals = []
    for rule, fired in zip(rules, outcomes, strict=True):
        rule_id = f"custom.{rule.name}"
        if isinstance(fired, cel.CustomRuleError):
            # A rule that might have denied or held the refund fails safe: a person looks.
            if rule.effect in ("deny", "review"):
                ctx.add(Hit(rule_id, "review", f"could not be evaluated ({fired}): {rule.when}", "", GUARD))
            else:
                ctx.add(Hit(rule_id, "info", f"could not be evaluated ({fired}); ignored: {rule.when}"))
            continue
        if not fired:
            if missing and (unread := rule.names & missing):
                custom_unknown(ctx, rule, unread)  # it may have fired had the store said
            continue
        message = rule.message or DEFAULT_MESSAGES[rule.effect]
        tier = SOFT if rule.effect in ("approve", "info") else GUARD
        ctx.add(Hit(rule_id, rule.effect, rule.when, message, tier))
        if rule.effect == "approve":
            approvals.append(rule_id)
    return approvals


@dataclass(frozen=True)
class _RuleSet:
    uses: frozenset[str]  # the variables any rule reads
    names: frozenset[str]  # the words of all rules: the only fields they reach
    together: cel.Program  # every rule in one expression: one call into the runtime per decision


@lru_cache(maxsize=64)
def _rule_set(rules: tuple[CustomRule, ...]) -> _RuleSet:
    """What a policy's rules need, worked out on their first decision (a policy is loaded once
    and decides many times)."""
    uses: frozenset[str] = frozenset().union(*(rule.uses for rule in rules))
    names: frozenset[str] = frozenset().union(*(rule.names for rule in rules))
    return _RuleSet(uses, names, cel.compile_together([rule.program for rule in rules]))


def _values(ctx: Context, uses: frozenset[str], names: frozenset[str], missing: set[str]) -> dict[str, Any]:
    """The CEL variables; the names of the numbers the store left unknown are added to ``missing``."""
    values: dict[str, Any] = {}
    if "request" in uses:
        values["request"] = cel.request_map(ctx.request, names)
    if "history" in uses:
        values["history"] = _known(history_numbers(ctx, names), missing)
    if "facts" in uses:
        values["facts"] = _known(facts(ctx, names), missing)
    if "now" in uses:
        values["now"] = cel.timestamp(ctx.now)
    return values


def _known(numbers: dict[str, Number], missing: set[str]) -> dict[str, int | bool]:
    """Unknown numbers are left out, not null: ``has(history.order_count)`` is the guard."""
    missing.update(name for name, value in numbers.items() if value is None)
    return {name: value for name, value in numbers.items() if value is not None}


Number = int | bool | None
_HISTORY: dict[str, Callable[[Context, float, float], Number]] = {
    "refunds": lambda ctx, since, until: ctx.index.of(ctx.keys["any"]).count(since, until),
    "customer_refunds": lambda ctx, since, until: ctx.index.of(ctx.keys["customer"]).count(since, until),
    "email_refunds": lambda ctx, since, until: ctx.index.of(ctx.keys["email"]).count(since, until),
    "payment_refunds": lambda ctx, since, until: ctx.index.of(ctx.keys["payment"]).count(since, until),
    "customer_refunded": lambda ctx, since, until: ctx.index.of(ctx.keys["customer"]).total(ctx.currency, since, until),
    "refunded_orders": lambda ctx, since, until: ctx.index.of(ctx.keys["customer"]).distinct_orders(since, until),
    "order_count": lambda ctx, since, until: ctx.history.customer_order_count,
    "order_total": lambda ctx, since, until: ctx.history.customer_order_total,
    "payment_disputed": lambda ctx, since, until: ctx.history.payment_disputed,
}
_EVENTS = {
    "days_since_order": "created_at",
    "days_since_payment": "paid_at",
    "days_since_fulfillment": "fulfilled_at",
    "days_since_delivery": "delivered_at",
}


def history_numbers(ctx: Context, names: frozenset[str] | None = None) -> dict[str, Number]:
    """The ``history`` map; with ``names`` only the numbers a rule can name are counted (each
    costs index look-ups, and a replay builds a fresh index per refund)."""
    since, until = ctx.now_ts - ctx.sections.lookback_days * 86_400, ctx.now_ts
    return {name: count(ctx, since, until) for name, count in _HISTORY.items() if names is None or name in names}


def facts(ctx: Context, names: frozenset[str] | None = None) -> dict[str, Number]:
    """The ``facts`` map (whole days at the request time), limited to ``names`` when given."""
    order = ctx.request.order
    values: dict[str, Number] = {}
    for name, event in _EVENTS.items():
        if names is None or name in names:
            moment = getattr(order, event)
            values[name] = None if moment is None else int((ctx.asked_at - moment).total_seconds() // 86_400)
    if names is None or "merchant_fault" in names:
        values["merchant_fault"] = ctx.merchant_fault
    return values
