"""Rules that could not be judged for want of an input are said out loud, never skipped in silence.

Each becomes an ``info`` hit whose rule id is ``unknown.<rule>`` (``unknown.abuse.ratio``,
``unknown.custom.vip``, ``unknown.digital.downloads``…): the decision's explanation carries its
message, the audit trail its id, and ``refund_hub_policy_unknown_inputs_total`` counts it by rule
and connector. A fact only counts as missing where knowing it could have changed the outcome: a
window counted from fulfilment because delivery is unknown is noted only when it closed (delivery
comes after fulfilment, so a window open from fulfilment is open from delivery too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hub.policy.config import CustomRule
from hub.policy.context import Context, Hit

PREFIX = "unknown."

# What a CEL name means to the customer, for the numbers the platform may leave unknown.
_CEL_WORDS = {
    "order_count": "how many orders you placed",
    "order_total": "how much you have spent with the store",
    "days_since_payment": "the payment date",
    "days_since_fulfillment": "the shipping date",
    "days_since_delivery": "the delivery date",
}
_IDENTITY_WORDS = {"customer": "customer", "email": "e-mail address", "payment": "payment method"}
_SIGNAL_WORDS = {"downloads": "download count", "activations": "licence activations", "accessed": "access"}


def is_unknown(rule: str) -> bool:
    return rule.startswith(PREFIX)


def note(ctx: Context, rule: str, detail: str, message: str) -> None:
    """``rule`` could not be evaluated for this request: ``detail`` for the merchant, ``message``
    in plain words for everyone who reads the explanation."""
    ctx.unknowns.append(Hit(f"{PREFIX}{rule}", "info", f"not evaluated: {detail}", message))


def ratio_unknown(ctx: Context, why: str) -> None:
    note(
        ctx,
        "abuse.ratio",
        why,
        "We could not compare your refunds with your orders: the store does not tell us how many orders you placed.",
    )


def velocity_unknown(ctx: Context, by: str) -> None:
    word = _IDENTITY_WORDS.get(by, by)
    note(
        ctx,
        f"abuse.velocity.{by}",
        f"the request names no {word} to count refunds by",
        f"We could not count earlier refunds by the same {word}: this request names none.",
    )


def window_unknown(ctx: Context, kind: str, wanted: str, used: str) -> None:
    note(
        ctx,
        f"window.{kind}",
        f"{kind} window counted from {used}: the {wanted} date is unknown",
        f"The refund window was counted from the {used} date because the {wanted} date is not known.",
    )


def usage_unknown(ctx: Context, label: str, name: str, signals: Sequence[str]) -> None:
    """One hit per signal (each counts on its own), one sentence for the line."""
    if not signals:
        return
    words = [_SIGNAL_WORDS[signal] for signal in signals]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    message = f"We could not check the {listed} of {name}: the store does not report it."
    for signal in signals:
        note(ctx, f"digital.{signal}", f"{label}: {_SIGNAL_WORDS[signal]} not reported", message)


def custom_unknown(ctx: Context, rule: CustomRule, missing: Iterable[str]) -> None:
    names = sorted(missing)
    said = ", ".join(_CEL_WORDS.get(n, n) for n in names)
    note(
        ctx,
        f"custom.{rule.name}",
        f"reads {', '.join(names)}, unknown for this request: {rule.when}",
        f"One of the store's refund rules could not be checked: it needs {said}, which the store does not report.",
    )
