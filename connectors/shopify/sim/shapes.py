"""The simulator's Admin GraphQL node shapes: orders, transactions, refunds and returns as the
2026-04 schema names their fields (money as ``shopMoney`` plus ``presentmentMoney``)."""

from __future__ import annotations

import json
from typing import Any

from connectors.shopify.sim.state import SimLine, SimOrder, SimRefund, SimReturn, SimShop, SimTransaction
from hub.models.money import format_decimal


def money(order: SimOrder, amount: int) -> dict[str, Any]:
    return {
        "shopMoney": {"amount": format_decimal(amount, order.currency), "currencyCode": order.currency},
        "presentmentMoney": {
            "amount": format_decimal(order.shown(amount), order.shown_currency),
            "currencyCode": order.shown_currency,
        },
    }


def transaction(order: SimOrder, tx: SimTransaction, *, parent: bool = True) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": f"gid://shopify/OrderTransaction/{tx.id}",
        "kind": tx.kind,
        "status": tx.status,
        "gateway": tx.gateway,
        "formattedGateway": tx.gateway.replace("_", " ").title(),
        "manualPaymentGateway": tx.manual,
        "test": False,
        "authorizationCode": tx.authorization,
        "paymentId": tx.payment_id,
        "receiptJson": json.dumps(tx.receipt),
        "processedAt": tx.created_at,
        "createdAt": tx.created_at,
        "amountSet": money(order, tx.amount),
    }
    source = order.transaction(tx.parent_id) if tx.parent_id else None
    if parent:
        node["parentTransaction"] = transaction(order, source, parent=False) if source else None
    return node


def order_updated_at(sim_order: SimOrder, shop: SimShop) -> str:
    """An order's ``updatedAt``: a refund or a return (made, moved, closed) updates its order."""
    moments = [sim_order.created_at, *(shop.refunds[i].created_at for i in sim_order.refund_ids)]
    for ret in shop.returns.values():
        if ret.order_id == sim_order.id:
            moments.extend(m for m in (ret.created_at, ret.updated_at, ret.closed_at) if m)
    return max(moments)


def order(sim_order: SimOrder, shop: SimShop) -> dict[str, Any]:
    refunds = [shop.refunds[i] for i in sim_order.refund_ids]
    refunded = sum(tx.amount for tx in sim_order.transactions if tx.kind == "REFUND" and tx.status == "SUCCESS")
    taken = _refunded_units(refunds)
    return {
        "id": sim_order.gid,
        "name": sim_order.name,
        "createdAt": sim_order.created_at,
        "processedAt": sim_order.created_at,
        "updatedAt": order_updated_at(sim_order, shop),
        "cancelledAt": None,
        "email": sim_order.email,
        "taxesIncluded": sim_order.taxes_included,
        "currencyCode": sim_order.currency,
        "presentmentCurrencyCode": sim_order.shown_currency,
        "customer": customer_node(sim_order.customer_id, shop),
        "totalPriceSet": money(sim_order, sim_order.total),
        "totalRefundedSet": money(sim_order, refunded),
        "lineItems": {"nodes": [line_item(sim_order, line, taken) for line in sim_order.lines]},
        "fulfillments": [
            {"createdAt": sim_order.fulfilled_at, "deliveredAt": sim_order.delivered_at, "status": "SUCCESS"}
        ]
        if sim_order.fulfilled_at
        else [],
        "transactions": [transaction(sim_order, tx) for tx in sim_order.transactions],
        "refunds": [
            {
                "id": r.gid,
                "note": r.note,
                "createdAt": r.created_at,
                "totalRefundedSet": money(sim_order, _refunded(sim_order, r)),
            }
            for r in refunds
        ],
        "returns": {
            "nodes": [{"id": r.gid, "status": r.status} for r in shop.returns.values() if r.order_id == sim_order.id]
        },
    }


def customer_node(customer_id: int, shop: SimShop) -> dict[str, Any]:
    """The order's customer with Shopify's lifetime figures over the shop's orders: how many
    (``UnsignedInt64``, a string) and what they came to less what was refunded (``MoneyV2``)."""
    orders = shop.customer_orders(customer_id)
    spent = sum(o.total for o in orders) - sum(
        tx.amount for o in orders for tx in o.transactions if tx.kind == "REFUND" and tx.status == "SUCCESS"
    )
    return {
        "id": f"gid://shopify/Customer/{customer_id}",
        "numberOfOrders": str(len(orders)),
        "amountSpent": {"amount": format_decimal(max(spent, 0), shop.currency), "currencyCode": shop.currency},
    }


def _refunded_units(refunds: list[SimRefund]) -> dict[int, int]:
    """Line id -> units the order's refunds took back."""
    units: dict[int, int] = {}
    for made in refunds:
        for line_id, quantity in made.lines:
            units[line_id] = units.get(line_id, 0) + quantity
    return units


def line_item(sim_order: SimOrder, line: SimLine, refunded: dict[int, int] | None = None) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/LineItem/{line.id}",
        "sku": line.sku,
        "name": line.title,
        "title": line.title,
        "quantity": line.quantity,
        "refundableQuantity": max(line.quantity - (refunded or {}).get(line.id, 0), 0),  # LineItem.refundableQuantity
        "requiresShipping": line.requires_shipping,
        "isGiftCard": line.kind == "gift_card",
        "product": {"id": f"gid://shopify/Product/{line.product_id}", "tags": list(line.tags)},
        "variant": {"id": f"gid://shopify/ProductVariant/{line.variant_id}"},
        "sellingPlan": {"sellingPlanId": f"gid://shopify/SellingPlan/{line.product_id}", "name": "Monthly"}
        if line.kind == "subscription"
        else None,
        "originalUnitPriceSet": money(sim_order, line.price),
        "discountedUnitPriceAfterAllDiscountsSet": money(sim_order, line.price),
        "taxLines": [{"priceSet": money(sim_order, line.tax)}] if line.tax else [],
    }


def _refunded(sim_order: SimOrder, made: SimRefund) -> int:
    return sum(
        tx.amount
        for tx in sim_order.transactions
        if tx.id in made.transaction_ids and tx.status in ("SUCCESS", "PENDING")
    )


def refund(made: SimRefund, shop: SimShop, *, with_order: bool = True) -> dict[str, Any]:
    sim_order = shop.orders[made.order_id]
    lines = []
    for line_id, quantity in made.lines:
        line = sim_order.line(line_id)
        if line:
            lines.append(
                {
                    "quantity": quantity,
                    "lineItem": {"id": f"gid://shopify/LineItem/{line_id}"},
                    "subtotalSet": money(sim_order, line.price * quantity),
                    "totalTaxSet": money(sim_order, line.tax * quantity // line.quantity),
                }
            )
    node = {
        "id": made.gid,
        "note": made.note,
        "createdAt": made.created_at,
        "totalRefundedSet": money(sim_order, _refunded(sim_order, made)),
        "return": {"id": f"gid://shopify/Return/{made.return_id}"} if made.return_id else None,
        "refundLineItems": {"nodes": lines},
        "transactions": {
            "nodes": [transaction(sim_order, tx) for tx in sim_order.transactions if tx.id in made.transaction_ids]
        },
    }
    if with_order:
        node["order"] = order(sim_order, shop)
    return node


def return_node(ret: SimReturn, shop: SimShop) -> dict[str, Any]:
    return {
        "id": ret.gid,
        "name": ret.name,
        "status": ret.status,
        "createdAt": ret.created_at,
        "closedAt": ret.closed_at,
        "decline": {"reason": ret.decline["reason"].upper(), "note": ret.decline.get("note")} if ret.decline else None,
        "returnLineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/ReturnLineItem/{item.id}",
                    "quantity": item.quantity,
                    "processableQuantity": item.quantity - item.processed if ret.status == "OPEN" else 0,
                    "processedQuantity": item.processed,
                    "returnReason": item.reason,
                    "returnReasonNote": item.note,
                    "customerNote": None,
                    "fulfillmentLineItem": {"lineItem": {"id": f"gid://shopify/LineItem/{item.line_id}"}},
                }
                for item in ret.lines
            ]
        },
        "refunds": {"nodes": [{"id": shop.refunds[i].gid, "note": shop.refunds[i].note} for i in ret.refund_ids]},
        "order": order(shop.orders[ret.order_id], shop),
    }


def shop_node(shop: SimShop) -> dict[str, Any]:
    """``QueryRoot.shop``: the shop the token belongs to (what the connector asks before it trusts
    an app/uninstalled or shop/redact body)."""
    return {
        "id": f"gid://shopify/Shop/{shop.id}",
        "name": shop.name or shop.domain,
        "myshopifyDomain": shop.domain,
        "currencyCode": shop.currency,
    }
