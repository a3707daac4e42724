"""The order a customer names on the hub's request page, by the name Shopify shows them (``#1001``):
an ``orders`` search on ``name:``, read with the same fields as every other fetch, as a request
for what is still refundable of each line (``LineItem.refundableQuantity``: the units ordered less
those already refunded or removed), so the page never offers a unit twice; the balance check
still keeps any refund within what was captured."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.shopify.bodies import ORDER_FIELDS
from connectors.shopify.client import AdminClient
from connectors.shopify.fetch import order_facts
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import gid_tail, line, payments
from hub.contracts import StoreContext, StoreDirectory
from hub.models import Customer, RefundRequest

ORDER_BY_NAME = f"""
query orderByName($query: String!) {{
  orders(first: 2, query: $query) {{ nodes {{
    {ORDER_FIELDS}
    lineItems(first: 250) {{ nodes {{ id refundableQuantity }} }}
  }} }}
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
        line(node, _refundable(node), taxes_included=taxes_included)
        for node in (order.get("lineItems") or {}).get("nodes") or ()
        if _refundable(node) > 0
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


def _refundable(node: dict[str, Any]) -> int:
    """Units of the line still refundable; none when Shopify does not say (never the whole line)."""
    left = node.get("refundableQuantity")
    return min(int(left), int(node.get("quantity") or 0)) if left is not None else 0
