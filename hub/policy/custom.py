"""Evaluate the merchant's custom CEL rules against the request, its history and derived facts."""

from __future__ import annotations

from celpy import celtypes

from hub.policy import cel
from hub.policy.context import GUARD, SOFT, Context, Hit

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
    uses = frozenset().union(*(rule.uses for rule in rules))
    activation = _activation(ctx, uses, frozenset().union(*(rule.names for rule in rules)))
    approvals = []
    for rule in rules:
        rule_id = f"custom.{rule.name}"
        try:
            fired = cel.evaluate(rule.program, activation)
        except cel.CustomRuleError as exc:
            # A rule that might have denied or held the refund fails safe: a person looks.
            if rule.effect in ("deny", "review"):
                ctx.add(Hit(rule_id, "review", f"could not be evaluated ({exc}): {rule.when}", "", GUARD))
            else:
                ctx.add(Hit(rule_id, "info", f"could not be evaluated ({exc}); ignored: {rule.when}"))
            continue
        if not fired:
            continue
        message = rule.message or DEFAULT_MESSAGES[rule.effect]
        tier = SOFT if rule.effect in ("approve", "info") else GUARD
        ctx.add(Hit(rule_id, rule.effect, rule.when, message, tier))
        if rule.effect == "approve":
            approvals.append(rule_id)
    return approvals


def _activation(ctx: Context, uses: frozenset[str], names: frozenset[str]) -> dict[str, celtypes.Value]:
    values: dict[str, celtypes.Value] = {}
    if "request" in uses:
        values["request"] = cel.to_cel(cel.request_map(ctx.request, names))
    if "history" in uses:
        values["history"] = cel.to_cel(history_numbers(ctx))
    if "facts" in uses:
        values["facts"] = cel.to_cel(facts(ctx))
    if "now" in uses:
        values["now"] = cel.to_cel(ctx.now)
    return values


def history_numbers(ctx: Context) -> dict[str, int | bool | None]:
    since, until = ctx.now_ts - ctx.sections.lookback_days * 86_400, ctx.now_ts
    index, keys = ctx.index, ctx.keys
    customer = index.of(keys["customer"])
    return {
        "refunds": index.of(keys["any"]).count(since, until),
        "customer_refunds": customer.count(since, until),
        "email_refunds": index.of(keys["email"]).count(since, until),
        "payment_refunds": index.of(keys["payment"]).count(since, until),
        "customer_refunded": customer.total(ctx.currency, since, until),
        "refunded_orders": customer.distinct_orders(since, until),
        "order_count": ctx.history.customer_order_count,
        "order_total": ctx.history.customer_order_total,
        "payment_disputed": ctx.history.payment_disputed,
    }


def facts(ctx: Context) -> dict[str, int | bool | None]:
    order = ctx.request.order
    events = {
        "days_since_order": order.created_at,
        "days_since_payment": order.paid_at,
        "days_since_fulfillment": order.fulfilled_at,
        "days_since_delivery": order.delivered_at,
    }
    values: dict[str, int | bool | None] = {
        name: None if moment is None else int((ctx.asked_at - moment).total_seconds() // 86_400)
        for name, moment in events.items()
    }
    values["merchant_fault"] = ctx.merchant_fault
    return values
