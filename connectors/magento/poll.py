"""Catch-up for stores that cannot push (Magento Open Source) and for pushes that went missing.

Each poll reads, through ``searchCriteria`` on ``updated_at`` sorted ascending, the credit memos
and the orders changed since the cursor (an order counts when its status or a comment marks a
refund request, per the store's ``refund_request_status`` / ``refund_request_comment_marker``),
and on Adobe Commerce (``edition = "commerce"``) the RMAs created since. Notices are the same as
for pushes, so ``fetch`` is shared.

Magento's timestamps have one-second resolution. ``condition_type=gt`` on the last timestamp seen
would lose a record saved later within that same second, so the cursor keeps the boundary second
and the source refs already reported in it, and asks ``gteq``.

``poll`` yields one ``PollResult`` per ``searchCriteria`` page, each with the cursor after that page;
the hub saves each, so a poll that fails half way resumes from the last page it finished.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.magento import parse
from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient
from hub.contracts import Notice, PollResult, StoreContext

CREDITMEMO_TOPIC = "observer.sales_order_creditmemo_save_after"
ORDER_TOPIC = "observer.sales_order_save_after"
RMA_TOPIC = "observer.rma_save_after"
ASCENDING = [("updated_at", "ASC"), ("entity_id", "ASC")]


def poll(client: MagentoClient, store: StoreContext, cursor: str | None) -> Iterator[PollResult]:
    state = _load(cursor, store.settings)
    settings = store.settings
    page_size = int(settings.get("poll_page_size") or 50)
    max_pages = int(settings.get("poll_max_pages") or 10)

    def scan(path: str, key: str, topic: str, groups: list[list[tuple[str, str, str]]]) -> Iterator[PollResult]:
        pages = client.pages(
            path,
            [[("updated_at", state[key]["at"], "gteq")], *groups],
            sort=ASCENDING,
            page_size=page_size,
            max_pages=max_pages,
        )
        for items in pages:
            notices: list[Notice] = []
            state[key] = _advance(
                state[key], items, lambda item: parse.notices(store.id, topic, item, settings), notices
            )
            yield PollResult(notices=notices, cursor=json.dumps(state, sort_keys=True))

    yield from scan("creditmemos", "creditmemos", CREDITMEMO_TOPIC, [])
    status, marker = settings.get("refund_request_status"), settings.get("refund_request_comment_marker")
    if status or marker:
        yield from scan("orders", "orders", ORDER_TOPIC, [] if marker else [[("status", str(status), "eq")]])
    if settings.get("edition") == "commerce":
        yield from _scan_returns(client, store, state, page_size, max_pages)


def _load(cursor: str | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        state = {}
    start = str(settings.get("installed_at") or "")
    if not start:
        hours = float(settings.get("poll_lookback_hours") or 24)
        start = tf.format_time(datetime.now(UTC) - timedelta(hours=hours))
    for key in ("creditmemos", "orders"):
        state.setdefault(key, {"at": start, "seen": []})
    state.setdefault("returns", {"after": 0, "since": start})
    return state


def _advance(
    window: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    make: Callable[[Mapping[str, Any]], list[Notice]],
    out: list[Notice],
) -> dict[str, Any]:
    """Report what is new since the window; return the window moved to the last second seen."""
    start, reported = window["at"], set(window["seen"])
    at, seen = start, set(reported)
    for item in items:
        stamp = str(item.get("updated_at") or at)
        if stamp > at:
            at, seen = stamp, set()
        for notice in make(item):
            if notice.kind == "ignored" or (stamp == start and notice.source_ref in reported):
                continue
            out.append(notice)
            seen.add(str(notice.source_ref))
    return {"at": at, "seen": sorted(seen)}


def _scan_returns(
    client: MagentoClient, store: StoreContext, state: dict[str, Any], page_size: int, max_pages: int
) -> Iterator[PollResult]:
    """RMAs have no ``updated_at``: new ones are found by ``entity_id`` after the last seen."""
    window = state["returns"]
    groups = [[("entity_id", str(window["after"]), "gt")]]
    if not window["after"]:
        groups.append([("date_requested", window["since"], "gteq")])
    last = int(window["after"])
    pages = client.pages("returns", groups, sort=[("entity_id", "ASC")], page_size=page_size, max_pages=max_pages)
    for items in pages:
        notices: list[Notice] = []
        for rma in items:
            last = max(last, int(rma.get("entity_id") or 0))
            notices.extend(n for n in parse.notices(store.id, RMA_TOPIC, rma, store.settings) if n.kind != "ignored")
        state["returns"] = {"after": last, "since": window["since"]}
        yield PollResult(notices=notices, cursor=json.dumps(state, sort_keys=True))
