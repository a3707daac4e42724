"""Square's refunds since a time: ListPaymentRefunds (``GET /v2/refunds?begin_time=…``, RFC 3339,
oldest first, at most 100 a page), paged by the ``cursor`` Square returns. The SDK retries a 429
itself; one that outlasts its retries is waited out here (Square names no wait: a short pause)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from square import Square
from square.core.api_error import ApiError
from square.core.request_options import RequestOptions

from gateways.square import transformers as tx
from hub.contracts import ListedRefund, ListingFailed, RateLimited, RefundListing

PAGE = 100
RETRY_AFTER = 2.0


def listed_refund(refund: Mapping[str, Any]) -> ListedRefund:
    result = tx.refund_result(refund)
    created = str(refund.get("created_at") or "1970-01-01T00:00:00Z").replace("Z", "+00:00")
    return ListedRefund(
        id=str(refund["id"]),
        amount=result.amount or 0,
        currency=result.currency or "",
        outcome=result.outcome,
        created_at=datetime.fromisoformat(created).astimezone(UTC),
        payment_reference=refund.get("payment_id"),
        hub_refund_id=tx.hub_refund_id_from_reason(refund.get("reason")),
        raw_status=result.raw_status,
    )


def list_page(client: Square, options: RequestOptions, since: datetime, cursor: str | None) -> RefundListing:
    begin = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        pager = client.refunds.list(
            begin_time=begin, sort_order="ASC", cursor=cursor, limit=PAGE, request_options=options
        )
    except ApiError as exc:
        if exc.status_code == 429:
            raise RateLimited(RETRY_AFTER) from exc
        raise ListingFailed(f"Square ListPaymentRefunds: HTTP {exc.status_code}") from exc
    body = pager.response.model_dump(mode="json", exclude_none=True)
    refunds = tuple(listed_refund(refund) for refund in body.get("refunds") or ())
    return RefundListing(refunds, body.get("cursor") or None)
