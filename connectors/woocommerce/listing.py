"""A WooCommerce store's refunds since a time, for reconciliation and backfill: the orders modified
since then (``GET /orders?modified_after=…&orderby=modified&order=asc``, a refund touches its
order), 100 a page, and for each order with refunds ``GET /orders/<id>/refunds``. The cursor is
the orders page. Each record is named as the webhooks name it (``refund:<id>``), with the hub id
and gateway refund id the hub's write-back put in its ``meta_data``. A 429 is waited out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.parse import refund_ref
from hub.contracts import ListedRefund, ListingFailed, Outcome, RateLimited, RefundListing

RETRY_AFTER = 5.0  # WooCommerce names no wait (a host's limiter may)


def listed_refund(order: Mapping[str, Any], refund: Mapping[str, Any]) -> ListedRefund:
    currency = str(order.get("currency") or "")
    marks = tx.hub_refund_meta(refund)
    created = tx.gmt(refund.get("date_created_gmt")) or datetime.fromtimestamp(0, UTC)
    return ListedRefund(
        id=str(refund["id"]),
        amount=tx.minor(refund.get("amount"), currency),
        currency=currency.upper(),
        outcome=Outcome.SUCCEEDED,  # a refund record exists once WooCommerce wrote it
        created_at=created,
        payment_reference=str(order.get("transaction_id") or "") or None,
        hub_refund_id=tx.hub_refund_id_of(refund),
        gateway_refund_id=marks.get(tx.HUB_GATEWAY_REFUND_META),
        order_id=str(order["id"]),
        source_ref=refund_ref(refund["id"]),
        raw_status="refunded_payment" if refund.get("refunded_payment") else "manual",
        hints={"refund_id": str(refund["id"])},
    )


def list_page(client: WooClient, since: datetime, cursor: str | None) -> RefundListing:
    number = int(cursor or 1)
    params = {"modified_after": tx.gmt_text(since - timedelta(seconds=1)), "dates_are_gmt": True,
              "orderby": "modified", "order": "asc"}  # fmt: skip
    try:
        page = client.page("orders", params, number)
        found = []
        for order in page.items:
            if not order.get("refunds"):
                continue
            for refund in client.every(f"orders/{order['id']}/refunds"):
                listed = listed_refund(order, refund)
                if listed.created_at >= since:
                    found.append(listed)
    except WooError as exc:
        if exc.status == 429:
            raise RateLimited(RETRY_AFTER) from exc
        raise ListingFailed(f"WooCommerce refunds of orders: {exc.message}") from exc
    more = number < page.total_pages and bool(page.items)
    return RefundListing(tuple(found), str(number + 1) if more else None)
