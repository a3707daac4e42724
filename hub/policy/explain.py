"""The customer-facing explanation: a headline for the action, the deciding rules' messages, then
what could not be checked for want of an input (``hub.policy.unknowns``)."""

from __future__ import annotations

from collections.abc import Iterable

from hub.policy.context import Context, Hit
from hub.policy.unknowns import is_unknown

_ALTERNATIVE_WORDS = {"store_credit": "store credit", "exchange": "an exchange"}
# Which hit effects explain each action.
_DECIDING = {
    "approve": ("approve",),
    "approve_partial": ("reduce",),
    "deny": ("deny",),
    "review": ("review",),
    "offer_alternative": ("offer_alternative", "reduce"),
}


def headline(ctx: Context, action: str, amount: int, alternative: str | None) -> str:
    if action == "approve":
        return f"Your refund of {ctx.money(amount)} is approved."
    if action == "approve_partial":
        return f"We are refunding {ctx.money(amount)} of the {ctx.money(ctx.request.amount)} you asked for."
    if action == "deny":
        return "We can't refund this request."
    if action == "review":
        return "Your request needs a review by our team before we refund it; we will get back to you soon."
    words = _ALTERNATIVE_WORDS.get(alternative or "", "an alternative")
    return (
        f"We can't refund this to your original payment method, but we can offer you {words} "
        f"worth {ctx.money(amount)} instead."
    )


def explanation(ctx: Context, action: str, amount: int, alternative: str | None, hits: Iterable[Hit]) -> str:
    effects = _DECIDING[action]
    messages: list[str] = []
    unchecked: list[str] = []
    for hit in hits:
        if not hit.message:
            continue
        if hit.effect in effects and hit.message not in messages:
            messages.append(hit.message)
        elif is_unknown(hit.rule) and hit.message not in unchecked:
            unchecked.append(hit.message)
    return " ".join([headline(ctx, action, amount, alternative), *messages, *unchecked])
