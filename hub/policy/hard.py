"""Hard rules: money under dispute, a currency the payment is not in, more than is refundable.

Nothing overrides these — not an allowlist, not a custom ``approve`` rule.
"""

from __future__ import annotations

from hub.policy.context import HARD, Context, Hit

_CHECK_WITH_US = "We couldn't match this request to your payment; our team will look into it."


def check_hard(ctx: Context) -> None:
    request, hard = ctx.request, ctx.sections.hard
    if ctx.history.payment_disputed:
        ctx.add(
            Hit(
                "hard.dispute",
                hard.dispute,
                f"payment {request.primary_payment.reference if request.payments else '?'} has an open dispute",
                "This payment is being disputed with your bank or card issuer, so the dispute process will settle it.",
                HARD,
            )
        )
    order = request.order
    allowed = {order.currency} | ({order.presentment_currency} if order.presentment_currency else set())
    payment_currency = request.primary_payment.currency if request.payments else None
    if request.currency not in allowed or (payment_currency is not None and request.currency != payment_currency):
        ctx.add(
            Hit(
                "hard.currency_mismatch",
                hard.currency_mismatch,
                f"request in {request.currency}; order in {'/'.join(sorted(allowed))}; payment in {payment_currency}",
                _CHECK_WITH_US,
                HARD,
            )
        )
        return  # amounts in different currencies cannot be compared
    refundable = _refundable(ctx)
    if request.amount > refundable:
        ctx.add(
            Hit(
                "hard.over_refundable",
                hard.over_refundable,
                f"requested {ctx.money(request.amount)} but only {ctx.money(refundable)} is refundable "
                "(captured minus already refunded)",
                _CHECK_WITH_US,
                HARD,
            )
        )


def _refundable(ctx: Context) -> int:
    """Captured minus refunded in the request currency. In a presentment currency (Shopify
    multi-currency) the order's figures are in shop currency, so the payments' captures count;
    the ledger still enforces the exact balance under a lock (invariant 2, docs/architecture.md)."""
    request, order = ctx.request, ctx.request.order
    if request.currency == order.currency:
        return max(0, order.captured - order.refunded)
    return sum(p.captured for p in request.payments if p.currency == request.currency)
