"""Catch-up polling: what Shopify did not deliver — a subscription it deleted after failed
deliveries (``connectors.shopify.health`` makes it again), a delivery still in its 4-hour retry
schedule, one lost on the way. Each poll reads, 50 orders a page by the connection's ``endCursor``:

1. every order whose return status is ``RETURN_REQUESTED`` (``return_status:return_requested``),
   with its returns: a return waiting for a decision is the request the hub must answer;
2. the orders updated since the cursor (``updated_at:>='…'``, ``sortKey: UPDATED_AT``) with their
   returns and refunds: an open return (merchant-created returns start ``OPEN``) and a refund
   made in the Shopify admin.

Each becomes the notice its webhook would have made (``returns/request``, ``returns/approve``,
``refunds/create``), taken like a delivered one: the ledger finds an already-known return or
refund by its gid, so reading one again changes nothing — but each poll hands over only what it
has not handed over before, so a quiet shop polls to nothing. The cursor says what was seen:
``<newest updatedAt>|<gids seen at that second>|<returns waiting at the last poll>`` (``>=`` re-reads
the newest second, whose items are then skipped); the first poll looks back ``LOOKBACK``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.shopify.client import AdminClient
from connectors.shopify.transformers import gid_tail
from hub.contracts import Notice, PollResult
from hub.errors import PlatformUnavailable

POLL_TOPIC = "poll"
LOOKBACK = timedelta(days=1)
MAX_PAGES = 20  # per phase and poll: 1 000 orders; the next poll goes on from the saved cursor
WAITING = {"REQUESTED": "returns/request", "OPEN": "returns/approve"}  # return status -> its webhook
POLL_QUERY = """
query HubPoll($after: String, $query: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      updatedAt
      returns(first: 20) { nodes { id status } }
      refunds { id createdAt }
    }
  }
}
"""


@dataclass(frozen=True)
class Cursor:
    since: datetime
    edge: frozenset[str] = frozenset()  # gids handed over whose order was updated at ``since``
    waiting: frozenset[str] = frozenset()  # requested returns handed over by the last poll

    def text(self) -> str:
        return f"{_stamp(self.since)}|{','.join(sorted(self.edge))}|{','.join(sorted(self.waiting))}"

    @classmethod
    def parse(cls, text: str | None, default: datetime) -> Cursor:
        stamp, _, rest = (text or "").partition("|")
        edge, _, waiting = rest.partition("|")
        return cls(_since(stamp) or default, _ids(edge), _ids(waiting))


def pages(
    client: AdminClient, store_id: str, cursor: str | None, *, now: datetime | None = None
) -> Iterator[PollResult]:
    """One ``PollResult`` per page, each with the cursor after it: the returns waiting for a
    decision first, then what changed since the cursor."""
    seen = Cursor.parse(cursor, (now or datetime.now(UTC)) - LOOKBACK)
    waiting: set[str] = set()
    for orders in _orders(client, "return_status:return_requested"):
        asked = [n for order in orders for n in _returns(store_id, order) if n.topic == WAITING["REQUESTED"]]
        waiting.update(str(n.source_ref) for n in asked)
        fresh = [n for n in asked if n.source_ref not in seen.waiting]
        yield PollResult(fresh, Cursor(seen.since, seen.edge, frozenset(waiting | seen.waiting)).text())
    newest, edge = seen.since, set(seen.edge)
    for orders in _orders(client, f"updated_at:>='{_stamp(seen.since)}'"):
        notices: list[Notice] = []
        for order in orders:
            updated = _since(order.get("updatedAt")) or seen.since
            found = [*_returns(store_id, order), *_refunds(store_id, order, seen.since)]
            notices.extend(n for n in found if not (updated == seen.since and n.source_ref in seen.edge))
            if updated > newest:
                newest, edge = updated, set()
            if updated == newest:
                edge.update(str(n.source_ref) for n in found)
        yield PollResult(notices, Cursor(newest, frozenset(edge), frozenset(waiting)).text())


def _ids(text: str) -> frozenset[str]:
    return frozenset(i for i in text.split(",") if i)


def _orders(client: AdminClient, query: str) -> Iterator[list[Mapping[str, Any]]]:
    after: str | None = None
    for _ in range(MAX_PAGES):
        reply = client.execute(POLL_QUERY, {"after": after, "query": query})
        if reply.failure is not None or reply.data is None:
            raise PlatformUnavailable(f"Shopify orders ({query}): {reply.describe()}")
        connection = reply.data.get("orders") or {}
        yield list(connection.get("nodes") or ())
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return
        after = str(info["endCursor"])


def _returns(store_id: str, order: Mapping[str, Any]) -> list[Notice]:
    order_id = gid_tail(order.get("id"))
    return [
        Notice(
            kind="requested",
            store_id=store_id,
            topic=WAITING[str(found.get("status"))],
            order_id=order_id,
            source_ref=str(found["id"]),
            hints={"polled": True, "return_status": str(found.get("status"))},
        )
        for found in (order.get("returns") or {}).get("nodes") or ()
        if found.get("id") and str(found.get("status")) in WAITING
    ]


def _refunds(store_id: str, order: Mapping[str, Any], since: datetime) -> list[Notice]:
    order_id = gid_tail(order.get("id"))
    return [
        Notice(
            kind="recorded",
            store_id=store_id,
            topic="refunds/create",
            order_id=order_id,
            source_ref=str(refund["id"]),
            hints={"polled": True, "refund_id": gid_tail(refund["id"])},
        )
        for refund in order.get("refunds") or ()
        if refund.get("id") and (_since(refund.get("createdAt")) or since) >= since
    ]


def _since(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(microsecond=0)  # the search's precision: a second


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
