"""A Magento store's credit memos since a time (``GET /V1/creditmemos`` with ``searchCriteria`` on
``created_at gteq``, oldest first, 100 a page; the cursor is the page), for reconciliation and
backfill. Each is named as its events name it (``creditmemo:<increment_id>``); the hub id is read
from the comments the hub's write-back tags, the gateway refund from ``transaction_id`` (an
online credit memo's). Magento answers a page past the end with the last page again, so paging
stops on ``total_count``. A 429 is waited out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient
from hub.contracts import ListedRefund, ListingFailed, Outcome, RateLimited, RefundListing
from hub.errors import HubError

PAGE = 100
RETRY_AFTER = 5.0
SORT = [("created_at", "ASC"), ("entity_id", "ASC")]


def listed_refund(memo: Mapping[str, Any], comments: list[Any]) -> ListedRefund:
    currency = str(memo.get("order_currency_code") or memo.get("base_currency_code") or "")
    entity_id, number = memo.get("entity_id"), memo.get("increment_id")
    transaction = str(memo.get("transaction_id") or "") or None
    return ListedRefund(
        id=str(entity_id),
        amount=tf.minor(memo.get("grand_total"), currency),
        currency=currency.upper(),
        outcome=Outcome.SUCCEEDED,
        created_at=tf.parse_time(memo.get("created_at")) or datetime.fromtimestamp(0, UTC),
        hub_refund_id=tf.hub_refund_id(comments),
        gateway_refund_id=transaction,
        order_id=str(memo.get("order_id") or "") or None,
        source_ref=f"creditmemo:{number or entity_id}",
        raw_status="online" if transaction else "offline",
        hints={"entity": "creditmemo", "id": entity_id, "increment_id": number},
    )


def list_page(client: MagentoClient, since: datetime, cursor: str | None) -> RefundListing:
    page = int(cursor or 1)
    query = bodies.search([[("created_at", tf.format_time(since), "gteq")]], sort=SORT, page_size=PAGE, page=page)
    try:
        answer = client.get("creditmemos", query) or {}
        memos = list(answer.get("items") or [])
        found = tuple(listed_refund(memo, _comments(client, memo)) for memo in memos)
    except HubError as exc:
        if "rate limited" in str(exc):  # the client's words for a 429
            raise RateLimited(RETRY_AFTER) from exc
        raise ListingFailed(f"Magento credit memos: {exc}") from exc
    more = page * PAGE < int(answer.get("total_count") or 0)
    return RefundListing(found, str(page + 1) if more else None)


def _comments(client: MagentoClient, memo: Mapping[str, Any]) -> list[Any]:
    comments = memo.get("comments")
    if comments is None:
        comments = (client.get(f"creditmemo/{int(memo['entity_id'])}/comments") or {}).get("items") or []
    return list(comments)
