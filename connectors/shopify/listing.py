"""A Shopify store's refunds since a time, for reconciliation and backfill: the orders updated
since then (``orders(query: "updated_at:>=…", sortKey: UPDATED_AT)``: a refund updates its order),
50 a page by the connection's ``endCursor``, with each order's ``refunds``. Each refund is named
by its gid (what ``refunds/create`` names it by), with the hub id the hub's write-back wrote into
its note. Shopify throttles GraphQL by query cost (``THROTTLED``, with ``throttleStatus``): the
wait is the cost missing divided by the restore rate."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.shopify import transformers as tx
from connectors.shopify.client import AdminClient
from hub.contracts import ListedRefund, ListingFailed, Outcome, RateLimited, RefundListing

PAGE = 50
REFUNDS_QUERY = """
query HubRefundListing($after: String, $query: String) {
  orders(first: PAGE_SIZE, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      transactions { id gateway kind status }
      refunds { id note createdAt totalRefundedSet { shopMoney { amount currencyCode } } }
    }
  }
}
""".replace("PAGE_SIZE", str(PAGE))


def listed_refund(order: Mapping[str, Any], refund: Mapping[str, Any]) -> ListedRefund:
    amount = tx.shop_money(refund.get("totalRefundedSet"))
    sales = [t for t in order.get("transactions") or () if t.get("kind") in ("SALE", "CAPTURE")]
    return ListedRefund(
        id=str(refund["id"]),
        amount=amount[0] if amount else 0,
        currency=amount[1] if amount else "",
        outcome=Outcome.SUCCEEDED,
        created_at=datetime.fromisoformat(str(refund.get("createdAt")).replace("Z", "+00:00")).astimezone(UTC),
        payment_reference=str(sales[0]["id"]) if sales else None,
        hub_refund_id=tx.hub_refund_id_in(refund.get("note")),
        gateway_refund_id=str(refund["id"]),  # what a recorded Shopify refund carries as its id
        order_id=str(order["id"]),
        source_ref=str(refund["id"]),
        hints={"refund_id": str(refund["id"])},
    )


def throttle_wait(errors: tuple[Mapping[str, Any], ...], extensions: Mapping[str, Any] | None) -> float:
    status = ((extensions or {}).get("cost") or {}).get("throttleStatus") or {}
    rate = float(status.get("restoreRate") or 50.0)
    missing = float(((extensions or {}).get("cost") or {}).get("requestedQueryCost") or 100.0) - float(
        status.get("currentlyAvailable") or 0.0
    )
    return max(1.0, missing / rate)


def list_page(client: AdminClient, since: datetime, cursor: str | None) -> RefundListing:
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    reply = client.execute(REFUNDS_QUERY, {"after": cursor, "query": f"updated_at:>='{stamp}'"})
    if reply.status == 429 or "THROTTLED" in reply.codes():
        raise RateLimited(throttle_wait(reply.errors, None))
    if reply.failure is not None or reply.data is None:
        raise ListingFailed(f"Shopify orders: {reply.describe()}")
    orders = reply.data.get("orders") or {}
    found = tuple(
        listed
        for order in orders.get("nodes") or ()
        for refund in order.get("refunds") or ()
        for listed in [listed_refund(order, refund)]
        if listed.created_at >= since
    )
    info = orders.get("pageInfo") or {}
    return RefundListing(found, str(info["endCursor"]) if info.get("hasNextPage") and info.get("endCursor") else None)
