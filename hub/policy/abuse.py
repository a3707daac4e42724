"""Abuse signals: block/allow lists, refund velocity per identity, refund-to-order ratio.

An allowlisted customer skips velocity and ratio; the blocklist still applies (it wins when an
entry on one list and another on the other both match) and hard rules always do.
"""

from __future__ import annotations

from hub.policy.config import People
from hub.policy.context import GUARD, Context, Hit
from hub.policy.unknowns import ratio_unknown, velocity_unknown

_LOOK_CLOSER = "We need to take a closer look at this request before refunding it."
_NOT_AUTOMATIC = "We can't refund this request automatically; please contact us."
_WHO = {
    "customer": "this customer",
    "email": "this email address",
    "payment": "this payment method",
    "any": "this customer, email or card",
}


def _matches(people: People, ctx: Context) -> str | None:
    who = ctx.identity
    if who.email and who.email in people.emails:
        return f"email {who.email}"
    if who.email and who.email.rpartition("@")[2] in people.domains:
        return f"email domain {who.email.rpartition('@')[2]}"
    if who.customer_id and who.customer_id in people.customers:
        return f"customer {who.customer_id}"
    if who.fingerprint and who.fingerprint in people.payments:
        return f"payment instrument {who.fingerprint}"
    return None


def _message(effect: str) -> str:
    return _LOOK_CLOSER if effect == "review" else _NOT_AUTOMATIC


def check_abuse(ctx: Context) -> None:
    abuse = ctx.sections.abuse
    if abuse.blocklist:
        blocked = _matches(abuse.blocklist, ctx)
        if blocked:
            effect = abuse.blocklist_effect
            ctx.add(Hit("abuse.blocklist", effect, f"{blocked} is on the blocklist", _message(effect), GUARD))
    if abuse.allowlist:
        allowed = _matches(abuse.allowlist, ctx)
        if allowed:
            ctx.add(Hit("abuse.allowlist", "info", f"{allowed} is on the allowlist: velocity and ratio checks skipped"))
            return
    for limit in abuse.velocity:
        key = ctx.keys[limit.by]
        if key is None:
            velocity_unknown(ctx, limit.by)
            continue
        count = ctx.index.of(key).count(ctx.now_ts - limit.seconds, ctx.now_ts) + 1
        if count > limit.max:
            ctx.add(
                Hit(
                    f"abuse.velocity.{limit.by}",
                    limit.effect,
                    f"{count} refunds by {_WHO[limit.by]} within {limit.label}, counting this one (limit {limit.max})",
                    _message(limit.effect),
                )
            )
    _check_ratio(ctx)


def _check_ratio(ctx: Context) -> None:
    ratio, orders = ctx.sections.abuse.ratio, ctx.history.customer_order_count
    if ratio is None:
        return
    key = ctx.keys["customer"]
    if key is None:
        ratio_unknown(ctx, "the request names no customer id or e-mail")
        return
    if orders is None:
        ratio_unknown(ctx, f"the {ctx.request.connector} store does not report this customer's order count")
        return
    if orders < ratio.min_orders:
        return
    series = ctx.index.of(key)
    since = ctx.now_ts - ctx.sections.lookback_days * 86_400
    refunded = series.distinct_orders(since, ctx.now_ts) + (ctx.request.order_id not in series.orders)
    if refunded > ratio.max * orders:
        ctx.add(
            Hit(
                "abuse.ratio",
                ratio.effect,
                f"refunds on {refunded} of {orders} orders, counting this one "
                f"(limit {(ratio.max * 100).normalize():f}% of orders)",
                _message(ratio.effect),
            )
        )
