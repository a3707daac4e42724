"""``decide``: run every rule over one request and combine the hits into one ``Decision``.

Order: custom rules first (a custom ``approve`` waives soft rules), then hard rules, per-line
eligibility, abuse signals, the money plan. The strictest effect wins:
deny > review > offer_alternative > reduce (approve_partial) > approve.
"""

from __future__ import annotations

from datetime import datetime

from hub.models import RefundRequest
from hub.policy.abuse import check_abuse
from hub.policy.amounts import Plan, build_plan, split_request
from hub.policy.context import Context, Hit
from hub.policy.custom import check_custom
from hub.policy.decision import Action, Decision, RuleHit
from hub.policy.explain import explanation
from hub.policy.hard import check_hard
from hub.policy.history import History
from hub.policy.lines import Item, judge_items
from hub.policy.policy import Policy


def decide(policy: Policy, request: RefundRequest, history: History, now: datetime) -> Decision:
    """Pure: the same inputs always give the same decision; no I/O, no clock reads."""
    ctx = Context(policy, request, history, now)
    approvals = check_custom(ctx)
    custom_hits, ctx.hits = ctx.hits, []
    ctx.override = approvals[0] if approvals else None
    check_hard(ctx)
    items, shipping = split_request(request)
    judge_items(ctx, items)
    offer = _record_items(ctx, items)
    check_abuse(ctx)
    ctx.hits.extend(custom_hits)
    ctx.hits.extend(ctx.unknowns)
    removed = set() if offer or ctx.override else {i for i, item in enumerate(items) if item.blocked}
    plan = build_plan(ctx, items, shipping, removed)
    return _combine(ctx, items, plan)


def _record_items(ctx: Context, items: list[Item]) -> bool:
    """Add the line findings with their final effect; True when every item is blocked and each
    block may become the merchant's alternative offer."""
    blocked = [item for item in items if item.blocked]
    some_left = len(blocked) < len(items)
    offer = bool(blocked) and not some_left and all(item.offerable for item in blocked)
    for item in items:
        for finding in item.findings:
            if finding.review:
                effect = "review"
            elif some_left:
                effect = "reduce"
            else:
                effect = "offer_alternative" if offer else "deny"
            ctx.add(Hit(finding.rule, effect, finding.detail, finding.message))
    return offer and ctx.override is None


def _combine(ctx: Context, items: list[Item], plan: Plan) -> Decision:
    effects = {hit.effect for hit in ctx.hits}
    action: Action
    alternative = None
    if "deny" in effects:
        action = "deny"
    elif "review" in effects:
        action = "review"
    elif "offer_alternative" in effects:
        action, alternative = "offer_alternative", ctx.sections.alternatives.offer
    elif plan.total == 0:
        action = "deny"
        reasons = " ".join(dict.fromkeys(hit.message for hit in ctx.hits if hit.effect == "reduce" and hit.message))
        ctx.add(Hit("amount.nothing_left", "deny", "nothing refundable is left after the rules above", reasons))
    elif plan.total < ctx.request.amount:
        action = "approve_partial"
    else:
        action = "approve"
    amount = 0 if action == "deny" else plan.total
    line_amounts: tuple[tuple[str, int], ...] = ()
    if action != "deny":
        line_amounts = tuple(
            (item.line.line_id, part) for item, part in zip(items, plan.parts, strict=True) if item.line is not None
        )
    return Decision(
        action=action,
        amount=amount,
        rules=tuple(RuleHit(hit.rule, hit.effect, hit.detail) for hit in ctx.hits),
        explanation=explanation(ctx, action, amount, alternative, ctx.hits),
        policy_version=ctx.policy.version,
        alternative=alternative,
        line_amounts=line_amounts,
    )
