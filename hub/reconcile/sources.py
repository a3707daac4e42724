"""Where a store's refunds are listed outside the ledger: the gateway accounts its payments are
routed to, and its platform; each listing read to the end, page by page, within rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial

from hub.contracts import Connector, Gateway, ListedRefund, RefundListing, StoreContext, patiently
from hub.pipeline.routing import gateway_account
from hub.runtime.bootstrap import Hub

Page = Callable[[str | None], RefundListing | None]


def listed(page: Page, *, sleep: Callable[[float], None] | None = None) -> list[ListedRefund] | None:
    """Every refund of a listing (None: the source cannot list). A cursor seen twice ends it: a
    vendor that hands back the same page must not keep the hub reading forever."""
    found: dict[str, ListedRefund] = {}  # by id: a vendor's windows may overlap at their edges
    for batch in _pages(page, sleep or time.sleep):
        if batch is None:
            return None
        found.update((refund.id, refund) for refund in batch)
    return list(found.values())


def _pages(page: Page, sleep: Callable[[float], None]) -> Iterator[tuple[ListedRefund, ...] | None]:
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        answer = patiently(partial(page, cursor), sleep=sleep)
        if answer is None:
            yield None
            return
        yield answer.refunds
        if answer.cursor is None or answer.cursor in seen:
            return
        seen.add(answer.cursor)
        cursor = answer.cursor


def gateway_accounts(hub: Hub, connector: Connector, store: StoreContext) -> list[str]:
    """The configured gateway accounts the store routes payments to (its routes, else the
    connector's defaults)."""
    routes = {**connector.default_routes, **store.routes}
    accounts = {gateway_account(route) for route in routes.values()}
    return sorted(a for a in accounts if a and a in hub.gateways)


def stores_on(hub: Hub, account: str) -> int:
    """How many enabled stores route to ``account`` (a refund on an unknown payment of an account
    only one store uses is that store's)."""
    return sum(
        account in gateway_accounts(hub, hub.connectors[name], store)
        for name in hub.connectors
        for store in hub.stores[name].all()
    )


def gateway_listing(gateway: Gateway, since: datetime) -> Page:
    return lambda cursor: gateway.list_refunds(since, cursor)


def platform_listing(connector: Connector, store: StoreContext, since: datetime) -> Page:
    return lambda cursor: connector.list_refunds(store, since, cursor)
