"""A customer's orders and the store's order count, from ``GET /V1/orders?searchCriteria``.

Magento has no per-customer aggregate endpoint: the count is the list's ``total_count`` under a
filter (a registered customer by ``customer_id``; a guest by ``customer_email`` AND
``customer_is_guest = 1``), the total is summed over its pages (``grand_total`` less
``total_refunded``, canceled orders left out). Past ``MAX_ORDERS`` the total stays unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient, MagentoError

MAX_ORDERS = 500
PAGE_SIZE = 100
Groups = Sequence[Sequence[tuple[str, str, str]]]


def _count(client: MagentoClient, groups: Groups) -> int | None:
    """``total_count`` of a one-item page."""
    answer = client.get("orders", bodies.search(groups, page_size=1)) or {}
    total = str(answer.get("total_count", ""))
    return int(total) if total.isdigit() else None


def customer_history(client: MagentoClient, order: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(order count, total in the order's currency) of the order's customer; None: unknown."""
    customer = tf.customer(order)
    if customer.id:
        groups: Groups = [[("customer_id", customer.id, "eq")]]
    elif customer.email:
        groups = [[("customer_email", customer.email, "eq")], [("customer_is_guest", "1", "eq")]]
    else:
        return None, None
    try:
        count = _count(client, groups)
        if count is None or count > MAX_ORDERS:
            return count, None
        rows = client.search_all("orders", groups, page_size=PAGE_SIZE, max_pages=MAX_ORDERS // PAGE_SIZE)
    except MagentoError as exc:
        if exc.status in (401, 403, 404, 400):  # a role without Magento_Sales::actions_view: unknown
            return None, None
        raise
    return count, _spent(rows, str(order["order_currency_code"]))


def _spent(rows: Sequence[Mapping[str, Any]], currency: str) -> int | None:
    kept = [r for r in rows if r.get("state") != "canceled"]
    if any(r.get("order_currency_code") != currency for r in kept):
        return None
    return sum(
        max(tf.minor(r.get("grand_total"), currency) - tf.minor(r.get("total_refunded"), currency), 0) for r in kept
    )


def order_count(client: MagentoClient, since: datetime, until: datetime) -> int | None:
    """Orders created in [since, until): ``created_at`` is stored and compared in UTC."""
    return _count(client, [[("created_at", _utc(since), "gteq")], [("created_at", _utc(until), "lt")]])


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
