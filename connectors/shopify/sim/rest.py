"""Webhook bodies the simulator sends, in the REST shape Shopify serializes them in.

Shapes follow the official samples in ``tests/fixtures/shopify/`` (``webhook_refunds_create.json``,
``webhook_returns_*.json``, ``webhook_order_transactions_create.json``) and the compliance
payloads documented on shopify.dev.
"""

from __future__ import annotations

from typing import Any

from connectors.shopify.sim.state import SimOrder, SimRefund, SimReturn, SimShop, SimTransaction, iso
from hub.models.money import format_decimal


def money_set(order: SimOrder, amount: int) -> dict[str, Any]:
    return {
        "shop_money": {"amount": format_decimal(amount, order.currency), "currency_code": order.currency},
        "presentment_money": {
            "amount": format_decimal(order.shown(amount), order.shown_currency),
            "currency_code": order.shown_currency,
        },
    }


def transaction(order: SimOrder, tx: SimTransaction) -> dict[str, Any]:
    return {
        "id": tx.id,
        "order_id": order.id,
        "kind": tx.kind.lower(),
        "gateway": tx.gateway,
        "status": tx.status.lower(),
        "message": None,
        "created_at": tx.created_at,
        "test": False,
        "authorization": tx.authorization,
        "location_id": None,
        "user_id": None,
        "parent_id": tx.parent_id,
        "processed_at": tx.created_at,
        "device_id": None,
        "error_code": None,
        "source_name": "web",
        "receipt": tx.receipt,
        "amount": format_decimal(tx.amount, order.currency),
        "currency": order.currency,
        "payment_id": tx.payment_id,
        "manual_payment_gateway": tx.manual,
        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tx.id}",
    }


def refund(order: SimOrder, made: SimRefund) -> dict[str, Any]:
    items = []
    for line_id, quantity in made.lines:
        line = order.line(line_id)
        if line is None:
            continue
        tax = line.tax * quantity // line.quantity
        items.append(
            {
                "id": line_id * 10 + 1,
                "quantity": quantity,
                "line_item_id": line.id,
                "location_id": None,
                "restock_type": "no_restock",
                "subtotal": float(format_decimal(line.price * quantity, order.currency)),
                "total_tax": float(format_decimal(tax, order.currency)),
                "subtotal_set": money_set(order, line.price * quantity),
                "total_tax_set": money_set(order, tax),
                "line_item": {
                    "id": line.id,
                    "title": line.title,
                    "quantity": line.quantity,
                    "sku": line.sku,
                    "product_id": line.product_id,
                    "variant_id": line.variant_id,
                    "requires_shipping": line.requires_shipping,
                    "gift_card": line.kind == "gift_card",
                    "price": format_decimal(line.price, order.currency),
                    "price_set": money_set(order, line.price),
                },
            }
        )
    txs = [tx for tx in order.transactions if tx.id in made.transaction_ids]
    return {
        "id": made.id,
        "order_id": order.id,
        "created_at": made.created_at,
        "note": made.note,
        "user_id": None,
        "processed_at": made.created_at,
        "duties": [],
        "total_duties_set": money_set(order, 0),
        "return": {"id": made.return_id, "admin_graphql_api_id": f"gid://shopify/Return/{made.return_id}"}
        if made.return_id
        else None,
        "refund_shipping_lines": [],
        "restock": False,
        "admin_graphql_api_id": made.gid,
        "order_adjustments": [],
        "refund_line_items": items,
        "transactions": [transaction(order, tx) for tx in txs],
    }


def return_event(ret: SimReturn, topic: str) -> dict[str, Any]:
    order = {"id": ret.order_id, "admin_graphql_api_id": f"gid://shopify/Order/{ret.order_id}"}
    base: dict[str, Any] = {"id": ret.id, "admin_graphql_api_id": ret.gid, "status": ret.status.lower()}
    if topic == "returns/close":
        return {**base, "order_id": ret.order_id}
    if topic == "returns/decline":
        return {**base, "order": order, "decline": ret.decline}
    # returns/request and returns/approve carry no line details: read the Return through GraphQL
    return {
        **base,
        "order": order,
        "total_return_line_items": sum(x.quantity for x in ret.lines),
        "name": ret.name,
        "return_line_items": [],
        "return_shipping_fees": [],
        "exchange_line_items": [],
        "total_exchange_line_items": 0,
    }


def shop(sim_shop: SimShop) -> dict[str, Any]:
    """app/uninstalled: the Shop resource."""
    return {
        "id": sim_shop.id,
        "name": sim_shop.name or sim_shop.domain,
        "email": f"owner@{sim_shop.domain}",
        "domain": sim_shop.domain,
        "myshopify_domain": sim_shop.domain,
        "currency": sim_shop.currency,
        "created_at": iso(),
        "updated_at": iso(),
    }


def customer_redact(sim_shop: SimShop, customer_id: int, email: str, order_ids: list[int]) -> dict[str, Any]:
    return {
        "shop_id": sim_shop.id,
        "shop_domain": sim_shop.domain,
        "customer": {"id": customer_id, "email": email, "phone": None},
        "orders_to_redact": order_ids,
    }


def data_request(
    sim_shop: SimShop, customer_id: int, email: str, order_ids: list[int], request_id: int
) -> dict[str, Any]:
    return {
        "shop_id": sim_shop.id,
        "shop_domain": sim_shop.domain,
        "orders_requested": order_ids,
        "customer": {"id": customer_id, "email": email, "phone": None},
        "data_request": {"id": request_id},
    }


def shop_redact(sim_shop: SimShop) -> dict[str, Any]:
    return {"shop_id": sim_shop.id, "shop_domain": sim_shop.domain}
