"""The order a customer names on the hub's request page, by the name Shopify shows them (``#1001``):
an ``orders`` search on ``name:``, read with the same fields as every other fetch, as a request
for every line of the order (what was refunded already is in the order's facts, and the balance
check keeps any refund within what was captured)."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.shopify.bodies import ORDER_FIELDS
from connectors.shopify.client import AdminClient
from connectors.shopify.fetch import order_facts
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import gid_tail, line, payments
from hub.contracts import StoreContext, StoreDirectory
from hub.models import Customer, RefundRequest

ORDER_BY_NAME = f"""
query orderByName($query: String!) {{
  orders(first: 2, query: $query) {{ nodes {{ {ORDER_FIELDS} }} }}
}}
"""


def customer_order(app: AppSettings, stores: StoreDirectory, store: StoreContext, number: str) -> RefundRequest | None:
    name = number.strip().lstrip("#")
    if not name.isalnum() or len(name) > 32:
        return None
    with AdminClient(app, stores, store) as client:
        found = client.read(ORDER_BY_NAME, {"query": f"name:#{name}"}).get("orders") or {}
    nodes = [o for o in found.get("nodes") or () if str(o.get("name") or "").lstrip("#") == name]
    if len(nodes) != 1:
        return None
    order = nodes[0]
    taxes_included = bool(order.get("taxesIncluded"))
    lines = tuple(
        line(node, int(node.get("quantity") or 0), taxes_included=taxes_included)
        for node in (order.get("lineItems") or {}).get("nodes") or ()
        if int(node.get("quantity") or 0) > 0
    )
    paid = tuple(payments(order))
    amount = sum(item.total for item in lines)
    if not lines or not paid or amount <= 0:
        return None
    facts = order_facts(order)
    return RefundRequest(
        connector="shopify",
        store_id=store.id,
        order_id=gid_tail(order["id"]) or "",
        source_ref=f"customer-order:{name}",
        customer=Customer(id=gid_tail((order.get("customer") or {}).get("id")), email=order.get("email") or None),
        order=facts,
        lines=lines,
        amount=amount,
        currency=facts.currency,
        payments=paid,
        requested_at=datetime.now(UTC),
    )
