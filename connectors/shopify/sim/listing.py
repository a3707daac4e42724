"""``orders(first:, after:, query: "updated_at:>='…'", sortKey: UPDATED_AT)`` as the Admin API
pages it: a connection of orders (``nodes``, ``pageInfo { hasNextPage endCursor }``), oldest update
first, where a refund updates its order (the simulator keeps no separate ``updatedAt``)."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from connectors.shopify.sim import shapes
from connectors.shopify.sim.state import SimShop

if TYPE_CHECKING:
    from connectors.shopify.sim.graphql import RootField
    from connectors.shopify.sim.server import ShopifySimulator

_SINCE = re.compile(r"updated_at:>=\s*'?([0-9T:\-Z+]+)'?")
_NAME = re.compile(r"name:#?([A-Za-z0-9]+)")  # the customer request page's look-up by order name
_RETURN_STATUS = re.compile(r"return_status:([a-z_]+)")  # the poll's returns waiting for a decision
RETURN_STATUS = {"return_requested": "REQUESTED", "in_progress": "OPEN"}  # OrderReturnStatus -> Return.status
LARGEST = 250


def orders(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    first = min(int(args.get("first") or 50), LARGEST)
    wanted = _SINCE.search(str(args.get("query") or ""))
    found = sorted(shop.orders.values(), key=lambda o: (shapes.order_updated_at(o, shop), o.id))
    if wanted:
        found = [o for o in found if shapes.order_updated_at(o, shop) >= wanted.group(1)]
    status = _RETURN_STATUS.search(str(args.get("query") or ""))
    if status:
        waiting = {r.order_id for r in shop.returns.values() if r.status == RETURN_STATUS.get(status.group(1))}
        found = [o for o in found if o.id in waiting]
    named = _NAME.search(str(args.get("query") or ""))
    if named:
        found = [o for o in found if o.name.lstrip("#") == named.group(1)]
    start = 0
    if args.get("after"):
        after = int(base64.b64decode(str(args["after"])).decode())
        start = next((n + 1 for n, o in enumerate(found) if o.id == after), len(found))
    page = found[start : start + first]
    end = base64.b64encode(str(page[-1].id).encode()).decode() if page else None
    return {
        "nodes": [shapes.order(o, shop) for o in page],
        "pageInfo": {"hasNextPage": start + first < len(found), "endCursor": end},
    }
