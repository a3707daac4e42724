"""A customer's orders at the store, and the store's order count, from ``GET /wc/v3/orders``.

REST v3 customers carry no ``orders_count``/``total_spent`` (removed from v3 for performance,
woocommerce/woocommerce#20309; the ``wc-analytics`` routes need the analytics import to have
run), so the hub counts orders itself: a registered customer's by ``customer=<id>``, a guest's by
``search=<billing email>`` — a fuzzy search, so only orders whose billing email is exactly the
guest's (case-insensitive) and that belong to no account count. What cannot be read in
``MAX_PAGES`` pages stays unknown rather than undercounted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient, WooError

MAX_PAGES = 5  # 500 orders: a customer beyond that has their total left unknown
ONE_SECOND = timedelta(seconds=1)


def customer_history(client: WooClient, order: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(order count, order total in the order's currency) of the order's customer; None: unknown.

    The total is what paid orders came to less their refunds; an order in another currency makes
    it unknown (no rate to add it with)."""
    customer_id = int(order.get("customer_id") or 0)
    email = str((order.get("billing") or {}).get("email") or "").strip().casefold()
    if customer_id:
        params: dict[str, Any] = {"customer": customer_id}
    elif email:
        params = {"search": email}
    else:
        return None, None
    try:
        found, complete = _orders(client, params)
        count = client.total("orders", params) if customer_id else None
    except WooError as exc:
        if exc.transient:
            raise
        return None, None  # refused (a key without the right) or not understood: unknown
    mine = [o for o in found if _belongs(o, customer_id, email)]
    if not customer_id:
        count = len(mine) if complete else None
    return count, _spent(mine, str(order["currency"])) if complete else None


def _orders(client: WooClient, params: Mapping[str, Any]) -> tuple[list[Any], bool]:
    """The listed orders and whether that was all of them."""
    found: list[Any] = []
    for number in range(1, MAX_PAGES + 1):
        page = client.page("orders", params, number)
        found += page.items
        if number >= page.total_pages or not page.items:
            return found, True
    return found, False


def _belongs(order: Mapping[str, Any], customer_id: int, email: str) -> bool:
    if customer_id:
        return int(order.get("customer_id") or 0) == customer_id
    billing = str((order.get("billing") or {}).get("email") or "").strip().casefold()
    return not int(order.get("customer_id") or 0) and billing == email


def _spent(orders: list[Any], currency: str) -> int | None:
    paid = [o for o in orders if o.get("date_paid_gmt")]
    if any(o.get("currency") != currency for o in paid):
        return None
    return sum(
        max(tx.minor(o.get("total"), currency) - tx.refund_total(o.get("refunds") or (), currency), 0) for o in paid
    )


def order_count(client: WooClient, since: datetime, until: datetime) -> int | None:
    """Orders created in [since, until), GMT: ``after`` and ``before`` are both exclusive and
    WooCommerce keeps whole seconds, so ``after`` is one second before ``since``."""
    return client.total(
        "orders",
        {
            "after": tx.gmt_text(_whole_second(since) - ONE_SECOND),
            "before": tx.gmt_text(_whole_second(until)),
            "dates_are_gmt": True,
        },
    )


def _whole_second(moment: datetime) -> datetime:
    """The first whole second at or after ``moment`` (naive: UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.replace(microsecond=0) + (ONE_SECOND if aware.microsecond else timedelta(0))
