"""Small builders for policy tests: a request with sensible defaults, prior refunds, histories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.models import Customer, DigitalUsage, Line, OrderFacts, Payment, ProductKind, ReasonCode, RefundRequest
from hub.policy import History, Policy, PriorRefund, load_policy

UTC = UTC
T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # order placed; a Monday
DELIVERED = T0 + timedelta(days=3)
ASKED = DELIVERED + timedelta(days=5)


def line(line_id: str = "1", price: int = 2_000, **kw: Any) -> Line:
    kind = kw.pop("kind", "physical")
    usage = kw.pop("usage", None)
    return Line(
        line_id=line_id,
        title=kw.pop("title", f"Item {line_id}"),
        quantity=kw.pop("quantity", 1),
        unit_price=price,
        kind=ProductKind(kind),
        usage=DigitalUsage(**usage) if isinstance(usage, Mapping) else usage,
        **kw,
    )


def digital(line_id: str, price: int = 1_000, **usage: Any) -> Line:
    return line(line_id, price, kind="digital", title=f"Track {line_id}", usage=usage or None)


def request(
    lines: list[Line] | tuple[Line, ...] | None = None,
    *,
    amount: int | None = None,
    shipping: int = 0,
    currency: str = "USD",
    asked: datetime = ASKED,
    created: datetime = T0,
    paid: datetime | None = T0,
    fulfilled: datetime | None = T0 + timedelta(days=1),
    delivered: datetime | None = DELIVERED,
    captured: int | None = None,
    refunded: int = 0,
    order_currency: str | None = None,
    presentment: str | None = None,
    payment_currency: str | None = None,
    reason: str = "changed_mind",
    customer_id: str | None = "cust-1",
    email: str | None = "ann@example.com",
    fingerprint: str | None = "card-1",
    order_id: str = "order-1",
) -> RefundRequest:
    lines = tuple(lines if lines is not None else [line()])
    goods = sum(item.total for item in lines)
    requested = amount if amount is not None else goods + shipping
    total = max(goods + shipping, requested)
    captured = total if captured is None else captured
    extra = {"fingerprint": fingerprint} if fingerprint else {}
    return RefundRequest(
        connector="sandbox",
        store_id="store-1",
        order_id=order_id,
        source_ref=f"ref-{order_id}",
        customer=Customer(id=customer_id, email=email),
        order=OrderFacts(
            created_at=created,
            paid_at=paid,
            fulfilled_at=fulfilled,
            delivered_at=delivered,
            currency=order_currency or currency,
            total=total,
            captured=captured,
            refunded=refunded,
            presentment_currency=presentment,
        ),
        lines=lines,
        shipping=shipping,
        amount=requested,
        currency=currency,
        reason=ReasonCode(reason),
        payments=(
            Payment(
                platform_label="stripe",
                reference=f"pi-{order_id}",
                captured=captured,
                currency=payment_currency or currency,
                extra=extra,
            ),
        ),
        requested_at=asked,
    )


def prior(
    days_ago: float,
    *,
    amount: int = 1_000,
    order_id: str | None = None,
    customer_id: str | None = "cust-1",
    email: str | None = "ann@example.com",
    fingerprint: str | None = "card-1",
    state: str = "succeeded",
    currency: str = "USD",
    at: datetime = ASKED,
    refund_id: str | None = None,
) -> PriorRefund:
    created = at - timedelta(days=days_ago)
    return PriorRefund(
        refund_id=refund_id or f"r-{days_ago}-{order_id}",
        order_id=order_id or f"order-old-{days_ago}",
        customer_id=customer_id,
        email=email,
        payment_fingerprint=fingerprint,
        amount=amount,
        currency=currency,
        state=state,
        created_at=created,
    )


def history(*priors: PriorRefund, **kw: Any) -> History:
    ordered = tuple(sorted(priors, key=lambda p: p.created_at, reverse=True))
    return History(prior_refunds=ordered, **kw)


def policy(**sections: Any) -> Policy:
    return load_policy({"version": "test", **sections})
