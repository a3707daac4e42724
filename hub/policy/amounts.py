"""The money side: split the request over its lines, drop removed lines, shipping, fees, caps,
the review threshold. Every split uses largest-remainder allocation, so parts add up exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hub.models import RefundRequest
from hub.models.money import allocate
from hub.policy.config import Fee
from hub.policy.context import GUARD, Context, Hit
from hub.policy.lines import Item


@dataclass
class Plan:
    parts: list[int]  # per item, what would be refunded
    shipping: int

    @property
    def total(self) -> int:
        return sum(self.parts) + self.shipping

    def scale_to(self, total: int) -> None:
        """Shrink every part in proportion so they add up to ``total`` exactly."""
        *parts, shipping = allocate(total, [*self.parts, self.shipping])
        self.parts, self.shipping = parts, shipping


def split_request(request: RefundRequest) -> tuple[list[Item], int]:
    """Items with their share of the requested amount, and the requested shipping refund."""
    shipping = min(request.shipping, request.amount)
    goods = request.amount - shipping
    if not request.lines:
        return [Item(None, goods)], shipping
    shares = allocate(goods, [line.total for line in request.lines])
    return [Item(line, share) for line, share in zip(request.lines, shares, strict=True)], shipping


def build_plan(ctx: Context, items: list[Item], shipping: int, removed: set[int]) -> Plan:
    plan = Plan([0 if i in removed else item.requested for i, item in enumerate(items)], shipping)
    _shipping(ctx, plan)
    for fee in ctx.sections.fees:
        _fee(ctx, plan, items, fee)
    _caps(ctx, plan)
    _threshold(ctx, plan)
    return plan


def _shipping(ctx: Context, plan: Plan) -> None:
    mode = ctx.sections.shipping
    if not plan.shipping or mode == "always" or (mode == "merchant_fault" and ctx.merchant_fault):
        return
    why = (
        "never refunded"
        if mode == "never"
        else f"refunded only when the reason is the store's fault, not {ctx.request.reason.value}"
    )
    hit = ctx.add(
        Hit(
            "shipping.not_refunded",
            "reduce",
            f"shipping {ctx.money(plan.shipping)} {why}",
            f"Original shipping ({ctx.money(plan.shipping)}) is not refundable.",
        )
    )
    if hit.effect == "reduce":
        plan.shipping = 0


def _fee(ctx: Context, plan: Plan, items: list[Item], fee: Fee) -> None:
    if ctx.request.reason.value in fee.waive_reasons:
        return
    chosen = [i for i, item in enumerate(items) if item.line and item.line.kind.value in fee.kinds and plan.parts[i]]
    base = sum(plan.parts[i] for i in chosen)
    if not base:
        return
    amount = int((Decimal(base) * fee.percent / 100).to_integral_value(ROUND_HALF_UP))
    fixed = fee.fixed.minor(ctx.currency) if fee.fixed else None
    if fixed:
        units = sum(line.quantity for i in chosen if (line := items[i].line)) if fee.per == "unit" else 1
        amount += fixed * units
    amount = min(amount, base)
    if not amount:
        return
    how = " + ".join(
        part
        for part in (
            f"{fee.percent_text} of {ctx.money(base)}" if fee.percent else "",
            f"{ctx.money(fixed)}{' per unit' if fee.per == 'unit' else ''}" if fixed else "",
        )
        if part
    )
    hit = ctx.add(
        Hit(
            f"fee.{fee.name}",
            "reduce",
            f"{fee.name} fee {how} = {ctx.money(amount)} deducted",
            f"A {fee.name} fee of {ctx.money(amount)} was deducted.",
        )
    )
    if hit.effect == "reduce":
        for i, share in zip(chosen, allocate(amount, [plan.parts[i] for i in chosen]), strict=True):
            plan.parts[i] -= share


_PER = {"customer": "per customer", "email": "per customer", "any": "per customer", "payment": "per payment method"}


def _caps(ctx: Context, plan: Plan) -> None:
    if not plan.total:
        return
    amounts = ctx.sections.amounts
    cap = amounts.max_per_refund.minor(ctx.currency) if amounts.max_per_refund else None
    if cap is not None and plan.total > cap:
        _apply_cap(
            ctx,
            plan,
            "amount.max_per_refund",
            amounts.cap_effect,
            cap,
            f"{ctx.money(plan.total)} is above the per-refund cap {ctx.money(cap)}",
            f"Refunds are limited to {ctx.money(cap)} per request.",
        )
    customer_cap = amounts.customer_cap
    key = ctx.keys[customer_cap.by] if customer_cap else None
    if customer_cap is None or key is None:
        return
    limit = customer_cap.amount.minor(ctx.currency)
    if limit is None:
        return
    before = ctx.index.of(key).total(ctx.currency, ctx.now_ts - customer_cap.days * 86_400, ctx.now_ts)
    if before + plan.total > limit:
        _apply_cap(
            ctx,
            plan,
            "amount.customer_cap",
            customer_cap.effect,
            max(0, limit - before),
            f"{ctx.money(before)} already refunded to this {customer_cap.by} within {customer_cap.days} days "
            f"+ {ctx.money(plan.total)} is above the cap {ctx.money(limit)}",
            f"Refunds are limited to {ctx.money(limit)} {_PER[customer_cap.by]} every {customer_cap.days} days.",
        )


def _apply_cap(ctx: Context, plan: Plan, rule: str, effect: str, allowed: int, detail: str, message: str) -> None:
    if effect == "reduce" and allowed > 0:
        ctx.add(Hit(rule, "reduce", f"{detail}: reduced to {ctx.money(allowed)}", message, GUARD))
        plan.scale_to(allowed)
        return
    effect = "deny" if effect == "reduce" else effect
    ctx.add(Hit(rule, effect, detail, message if effect == "deny" else "", GUARD))


def _threshold(ctx: Context, plan: Plan) -> None:
    review_above = ctx.sections.amounts.review_above
    limit = review_above.minor(ctx.currency) if review_above else None
    if limit is None or not plan.total:
        return
    if plan.total > limit:
        ctx.add(
            Hit("amount.review", "review", f"{ctx.money(plan.total)} is above the review threshold {ctx.money(limit)}")
        )
    else:
        ctx.add(
            Hit(
                "amount.auto_approve",
                "approve",
                f"{ctx.money(plan.total)} is within the auto-approve limit {ctx.money(limit)}",
            )
        )
