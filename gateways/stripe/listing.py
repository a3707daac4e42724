"""Stripe's refunds since a time (``GET /v1/refunds?created[gte]=…``), newest first, 100 a page;
the cursor is the last refund's id (``starting_after``), as Stripe pages every list. A 429 is
waited out (docs.stripe.com/rate-limits: back off and retry)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from gateways.stripe import transformers as tf
from hub.contracts import ListedRefund, ListingFailed, RateLimited, RefundListing

PAGE = 100  # Stripe's largest page
RETRY_AFTER = 2.0  # Stripe sends no Retry-After; a short pause, then again


def list_params(since: datetime, cursor: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"created": {"gte": int(since.timestamp())}, "limit": PAGE}
    if cursor:
        params["starting_after"] = cursor
    return params


def listed_refund(refund: Mapping[str, Any]) -> ListedRefund:
    result = tf.refund_result(refund)
    payment = refund.get("payment_intent") or refund.get("charge")
    payment_id = payment.get("id") if isinstance(payment, Mapping) else payment
    return ListedRefund(
        id=str(refund["id"]),
        amount=result.amount or 0,
        currency=result.currency or "",
        outcome=result.outcome,
        created_at=datetime.fromtimestamp(int(refund.get("created") or 0), UTC),
        payment_reference=str(payment_id) if payment_id else None,
        hub_refund_id=tf.hub_refund_id(refund),
        raw_status=result.raw_status,
    )


def list_page(client: stripe.StripeClient, since: datetime, cursor: str | None) -> RefundListing:
    try:
        page = client.v1.refunds.list(params=list_params(since, cursor))  # type: ignore[arg-type]
    except stripe.RateLimitError as exc:
        raise RateLimited(RETRY_AFTER) from exc
    except stripe.StripeError as exc:
        raise ListingFailed(f"Stripe refunds list: {exc.user_message or exc}") from exc
    refunds = [refund.to_dict() for refund in page.data]
    more = bool(page.has_more) and bool(refunds)
    return RefundListing(tuple(listed_refund(r) for r in refunds), str(refunds[-1]["id"]) if more else None)
