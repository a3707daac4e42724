"""What Shopify says beyond the order itself that the policy needs: the customer's lifetime order
count and spend, each line's product tags, and the product metafield the merchant names for
final sale (store setting ``final_sale_metafield``, e.g. ``custom.final_sale``).

They come from a second, best-effort query (``bodies.order_facts_query``): a shop that never
granted ``read_customers``/``read_products`` (an install from before they were asked for) is
still refunded, its history and tags stay unknown and the policy's ``when_unknown``/``has()``
decide. A throttled or unanswered query is tried again like any fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.shopify import bodies
from connectors.shopify.client import AdminClient
from connectors.shopify.transformers import gid_tail, shop_money
from hub.contracts import StoreContext
from hub.errors import PlatformUnavailable
from hub.models import RefundRequest

log = logging.getLogger(__name__)

FINAL_SALE_SETTING = "final_sale_metafield"
TRUE_WORDS = frozenset({"true", "1", "yes"})


@dataclass(frozen=True)
class ProductFacts:
    tags: tuple[str, ...] = ()
    final_sale: bool = False


@dataclass(frozen=True)
class OrderExtras:
    """The figures of one order's customer and products; None where Shopify did not say."""

    order_count: int | None = None
    order_total: tuple[int, str] | None = None  # minor units, currency
    products: Mapping[str, ProductFacts] = field(default_factory=dict)  # by line id


def final_sale_key(store: StoreContext) -> str | None:
    """The metafield the store's merchant names for final sale; one that is not ``namespace.key``
    is left out (logged): Shopify would refuse the whole query over it."""
    raw = store.settings.get(FINAL_SALE_SETTING)
    key = str(raw or "").strip()
    if key and not bodies.METAFIELD_KEY.fullmatch(key):
        log.warning(
            "store %s: %s %r is not namespace.key (e.g. custom.final_sale); ignored", store.id, FINAL_SALE_SETTING, key
        )
        return None
    return key or None


def read_extras(client: AdminClient, order_gid: str, key: str | None) -> OrderExtras:
    reply = client.execute(bodies.order_facts_query(key), {"id": order_gid})
    if reply.transient:
        raise PlatformUnavailable(f"Shopify {client.store.id}: order facts: {reply.describe()}")
    if reply.errors:  # e.g. ACCESS_DENIED on customer: the rest of the answer still holds
        log.warning("Shopify %s: some order facts unknown: %s", client.store.id, reply.describe())
    order = (reply.data or {}).get("order")
    return extras_of(order) if isinstance(order, Mapping) else OrderExtras()


def extras_of(order: Mapping[str, Any]) -> OrderExtras:
    """The ``HubOrderFacts`` answer as figures (pure: the recorded payloads test it)."""
    customer = order.get("customer") or {}
    count = str(customer.get("numberOfOrders") or "")
    spent = shop_money({"shopMoney": customer["amountSpent"]}) if customer.get("amountSpent") else None
    products = {}
    for node in (order.get("lineItems") or {}).get("nodes") or ():
        product = node.get("product")
        if not product:
            continue  # a custom line or a deleted product: nothing to say about it
        metafield = product.get("metafield") or {}
        products[gid_tail(node["id"]) or ""] = ProductFacts(
            tags=tuple(str(t) for t in product.get("tags") or ()),
            final_sale=str(metafield.get("value") or "").strip().lower() in TRUE_WORDS,
        )
    return OrderExtras(
        order_count=int(count) if count.isdigit() else None,
        order_total=spent,
        products=products,
    )


def with_extras(request: RefundRequest, extras: OrderExtras) -> RefundRequest:
    """The request with the customer's figures and its lines' tags and final-sale flags."""
    total = extras.order_total
    customer = request.customer.model_copy(
        update={
            "order_count": extras.order_count,
            # amountSpent is in the shop's currency, as the request is; another one is not comparable
            "order_total": total[0] if total and total[1] == request.currency else None,
        }
    )
    lines = tuple(
        line.model_copy(update={"tags": facts.tags, "final_sale": line.final_sale or facts.final_sale})
        if (facts := extras.products.get(line.line_id))
        else line
        for line in request.lines
    )
    return request.model_copy(update={"customer": customer, "lines": lines})


def orders_query(since: datetime, until: datetime) -> str:
    """Shopify search syntax for orders created in [since, until)."""
    return f"created_at:>='{_utc(since)}' AND created_at:<'{_utc(until)}'"


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def order_count(client: AdminClient, since: datetime, until: datetime) -> int | None:
    """``ordersCount`` uncapped; None unless Shopify calls the count EXACT (a lower bound would
    understate the refund rate's denominator and overstate the rate)."""
    found = client.read(bodies.ORDERS_COUNT_QUERY, {"query": orders_query(since, until)}).get("ordersCount") or {}
    count = found.get("count")
    if found.get("precision") != "EXACT" or not isinstance(count, int):
        return None
    return count
