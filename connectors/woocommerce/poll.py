"""Catch-up polling: what WooCommerce failed to push, from orders modified since the cursor.

WooCommerce never retries a delivery, so the janitor polls ``GET /orders?modified_after=…
&orderby=modified&order=asc&dates_are_gmt=true``. ``modified_after`` is exclusive and
second-grained, so each poll re-reads the cursor's second and skips the orders already seen
in it, unless what the hub reads from them (status, refund ids) changed within that second:
``date_modified`` cannot tell such a change apart. The cursor is ``<GMT second>|<order id>:<mark>,…``.

``pages`` yields one ``PollResult`` per REST page, each with the cursor after that page: the hub
saves it page by page, so a poll that fails half way (a 5xx on page 3) resumes after page 2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.parse import order_notices
from connectors.woocommerce.settings import StoreOptions
from hub.contracts import Notice, PollResult

POLL_TOPIC = "poll"


def seen_mark(order: Mapping[str, Any]) -> str:
    """``<order id>:<digest of its status and refund ids>``: what the notices of the order depend on."""
    refunds = ".".join(sorted(str(r.get("id")) for r in order.get("refunds") or ()))
    state = f"{tx.normalize_status(order.get('status'))}|{refunds}"
    return f"{int(order['id'])}:{hashlib.sha256(state.encode()).hexdigest()[:12]}"


def _order_of(mark: str) -> int:
    return int(mark.partition(":")[0])


def encode_cursor(second: datetime, seen: set[str]) -> str:
    return f"{tx.gmt_text(second)}|{','.join(sorted(seen, key=lambda mark: (_order_of(mark), mark)))}"


def decode_cursor(cursor: str | None) -> tuple[datetime, set[str]] | None:
    if not cursor:
        return None
    second, _, ids = cursor.partition("|")
    moment = tx.gmt(second)
    return (moment, {i for i in ids.split(",") if i}) if moment else None


def pages(
    client: WooClient,
    store_id: str,
    cursor: str | None,
    options: StoreOptions,
    *,
    lookback: timedelta,
    max_pages: int = 10,
    now: datetime | None = None,
) -> Iterator[PollResult]:
    """Notices for orders modified after the cursor (first poll: ``lookback`` ago), oldest first,
    one ``PollResult`` per REST page with the cursor after it (at most ``max_pages``)."""
    start = decode_cursor(cursor) or ((now or datetime.now(UTC)) - lookback, set())
    newest, seen_then = start[0], set(start[1])
    params = {
        "modified_after": tx.gmt_text(newest - timedelta(seconds=1)),
        "dates_are_gmt": True,
        "orderby": "modified",
        "order": "asc",
    }
    for number in range(1, max_pages + 1):
        page = client.page("orders", params, number)
        notices: list[Notice] = []
        for order in page.items:
            modified = tx.gmt(order.get("date_modified_gmt"))
            mark = seen_mark(order)
            if modified is None or (modified == start[0] and mark in start[1]):
                continue
            notices.extend(n for n in order_notices(store_id, POLL_TOPIC, order, options) if n.kind != "ignored")
            if modified > newest:
                newest, seen_then = modified, set()
            if modified == newest:  # the order's latest mark replaces an earlier one from this second
                seen_then = {m for m in seen_then if _order_of(m) != int(order["id"])} | {mark}
        yield PollResult(notices=notices, cursor=encode_cursor(newest, seen_then))
        if number >= page.total_pages or not page.items:
            return
