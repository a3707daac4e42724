"""PayPal's refunds since a time. PayPal has no list of refunds; its Transaction Search API
(``GET /v1/reporting/transactions``, developer.paypal.com/docs/api/transaction-search/v1) lists an
account's transactions, and event code ``T1107`` is a payment refund: its ``paypal_reference_id``
names the capture refunded, the amount is negative, ``transaction_status`` S/P/D/V. A request may
span at most 31 days and answers in numbered pages (``page``, ``total_pages``), so the cursor is
``<window start>|<page>``: a window is read page by page, then the next window, until now.
Transactions take up to three hours to appear (PayPal's note): a reconciliation window should
end that far back to be sure of them. A 429 is waited out (Retry-After when PayPal sends one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from gateways.paypal import money
from gateways.paypal.client import PayPalHttpError
from hub.contracts import ListedRefund, ListingFailed, Outcome, RateLimited, RefundListing

REFUND = "T1107"  # "Payment refund, initiated by merchant" (Transaction event codes)
WINDOW = timedelta(days=31)  # the longest span one search may ask for
PAGE_SIZE = 500  # PayPal's largest page
STATUS = {"S": Outcome.SUCCEEDED, "P": Outcome.PENDING, "D": Outcome.FAILED, "V": Outcome.FAILED}


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_path(start: datetime, end: datetime, page: int) -> str:
    query = {"start_date": _stamp(start), "end_date": _stamp(end), "transaction_type": REFUND,
             "fields": "transaction_info", "page_size": PAGE_SIZE, "page": page}  # fmt: skip
    return f"/v1/reporting/transactions?{urlencode(query)}"


def listed_refund(info: Mapping[str, Any]) -> ListedRefund | None:
    amount = info.get("transaction_amount") or {}
    currency = str(amount.get("currency_code") or "").upper()
    try:
        minor = abs(money.to_minor_units(str(amount.get("value", "0")).lstrip("-"), currency))
    except (money.AmountNotAccepted, ValueError):
        return None
    created = str(info.get("transaction_initiation_date") or "1970-01-01T00:00:00+0000")
    return ListedRefund(
        id=str(info["transaction_id"]),
        amount=minor,
        currency=currency,
        outcome=STATUS.get(str(info.get("transaction_status")), Outcome.UNKNOWN),
        created_at=datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC),
        payment_reference=info.get("paypal_reference_id"),
        hub_refund_id=info.get("custom_field") or info.get("invoice_id") or None,
        raw_status=info.get("transaction_status"),
    )


def list_page(
    get: Callable[[str], dict[str, Any]], since: datetime, cursor: str | None, now: datetime | None = None
) -> RefundListing:
    now = now or datetime.now(UTC)
    start, page = _position(since, cursor)
    end = min(start + WINDOW, now.replace(microsecond=0) + timedelta(seconds=1))  # whole seconds on the wire
    try:
        body = get(search_path(start, end, page))
    except PayPalHttpError as exc:
        if exc.failure.status == 429:
            raise RateLimited(2.0) from exc
        raise ListingFailed(f"PayPal transaction search: HTTP {exc.failure.status} {exc.failure.code}") from exc
    found = [listed_refund(detail.get("transaction_info") or {}) for detail in body.get("transaction_details") or ()]
    refunds = tuple(refund for refund in found if refund is not None)
    if page < int(body.get("total_pages") or 1):
        return RefundListing(refunds, f"{_stamp(start)}|{page + 1}")
    if end < now:
        return RefundListing(refunds, f"{_stamp(end)}|1")
    return RefundListing(refunds, None)


def _position(since: datetime, cursor: str | None) -> tuple[datetime, int]:
    if not cursor:
        return since.astimezone(UTC), 1
    start, _, page = cursor.partition("|")
    return datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), int(page or 1)
