"""The simulator's Admin GraphQL: read the operation's root fields, answer them, refuse the rest.

Not a GraphQL engine: it finds the root fields (and their ``$variable`` arguments and
directives) of the document and returns the whole node for each, a superset of what a client
asked. Root fields it does not know get the ``undefinedField`` error Shopify gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connectors.shopify.sim_state import SimOrder, SimRefund, SimReturn, SimShop, SimTransaction
from hub.models.money import format_decimal

if TYPE_CHECKING:
    from connectors.shopify.simulator import ShopifySimulator

_HEAD = re.compile(r"^\s*(query|mutation)?\s*[A-Za-z_]*\w*\s*(\([^)]*\))?\s*\{", re.S)
_NAME = re.compile(r"\s*(?:[A-Za-z_]\w*\s*:\s*)?([A-Za-z_]\w*)")
_ARG = re.compile(r'(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|[\w.-]+)')
_IDEMPOTENT = re.compile(r'@idempotent\s*\(\s*key\s*:\s*("(?:[^"\\]|\\.)*")\s*\)')
MUTATIONS = ("refundCreate", "returnDeclineRequest", "metafieldsSet", "webhookSubscriptionCreate")


class GraphQLFailure(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.error = {"message": message, "extensions": {"code": code}}


@dataclass(frozen=True)
class RootField:
    name: str
    arguments: str
    directives: str


def root_fields(document: str) -> tuple[str, list[RootField]]:
    head = _HEAD.match(document)
    if head is None:
        raise GraphQLFailure("syntax error: expected an operation", "parseError")
    kind, position, fields = head.group(1) or "query", head.end(), []
    while True:
        name = _NAME.match(document, position)
        if name is None:
            break
        position = name.end()
        arguments, position = _balanced(document, position, "(", ")")
        directives_start = position
        while document[position:].lstrip().startswith("@"):
            position = document.index("@", position) + 1
            _, position = _balanced(document, _NAME.match(document, position).end(), "(", ")")  # type: ignore[union-attr]
        directives = document[directives_start:position]
        _, position = _balanced(document, position, "{", "}")
        fields.append(RootField(name.group(1), arguments, directives))
    return kind, fields


def _balanced(text: str, position: int, opening: str, closing: str) -> tuple[str, int]:
    stripped = len(text) - len(text[position:].lstrip())
    if stripped >= len(text) or text[stripped] != opening:
        return "", position
    depth, index = 0, stripped
    while index < len(text):
        char = text[index]
        if char == '"':
            index = text.index('"', index + 1) if '"' in text[index + 1 :] else len(text)
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[stripped + 1 : index], index + 1
        index += 1
    raise GraphQLFailure("syntax error: unbalanced brackets", "parseError")


def arguments(field: RootField, variables: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in _ARG.findall(field.arguments):
        if raw.startswith("$"):
            values[name] = variables.get(raw[1:])
        elif raw.startswith('"'):
            values[name] = json.loads(raw)
        else:
            values[name] = raw
    return values


def idempotency_key(field: RootField) -> str | None:
    found = _IDEMPOTENT.search(field.directives)
    return json.loads(found.group(1)) if found else None


def execute(sim: ShopifySimulator, shop: SimShop, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    try:
        kind, fields = root_fields(document)
        data: dict[str, Any] = {}
        for field in fields:
            resolver = RESOLVERS.get(field.name)
            if resolver is None or (field.name in MUTATIONS) != (kind == "mutation"):
                root = "Mutation" if kind == "mutation" else "QueryRoot"
                raise GraphQLFailure(f"Field '{field.name}' doesn't exist on type '{root}'", "undefinedField")
            data[field.name] = resolver(sim, shop, field, arguments(field, variables))
        return {"data": data}
    except GraphQLFailure as failure:
        return {"errors": [failure.error]}


# node shapes ---------------------------------------------------------------------------------


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


def order(sim_order: SimOrder, shop: SimShop) -> dict[str, Any]:
    refunds = [shop.refunds[i] for i in sim_order.refund_ids]
    refunded = sum(tx.amount for tx in sim_order.transactions if tx.kind == "REFUND" and tx.status == "SUCCESS")
    return {
        "id": sim_order.gid,
        "name": sim_order.name,
        "createdAt": sim_order.created_at,
        "processedAt": sim_order.created_at,
        "updatedAt": sim_order.created_at,
        "cancelledAt": None,
        "email": sim_order.email,
        "taxesIncluded": sim_order.taxes_included,
        "currencyCode": sim_order.currency,
        "presentmentCurrencyCode": sim_order.shown_currency,
        "customer": {"id": f"gid://shopify/Customer/{sim_order.customer_id}"},
        "totalPriceSet": money(sim_order, sim_order.total),
        "totalRefundedSet": money(sim_order, refunded),
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/LineItem/{line.id}",
                    "sku": line.sku,
                    "name": line.title,
                    "title": line.title,
                    "quantity": line.quantity,
                    "requiresShipping": line.requires_shipping,
                    "isGiftCard": line.kind == "gift_card",
                    "product": {"id": f"gid://shopify/Product/{line.product_id}"},
                    "variant": {"id": f"gid://shopify/ProductVariant/{line.variant_id}"},
                    "sellingPlan": {"sellingPlanId": f"gid://shopify/SellingPlan/{line.product_id}", "name": "Monthly"}
                    if line.kind == "subscription"
                    else None,
                    "originalUnitPriceSet": money(sim_order, line.price),
                    "discountedUnitPriceAfterAllDiscountsSet": money(sim_order, line.price),
                    "taxLines": [{"priceSet": money(sim_order, line.tax)}] if line.tax else [],
                }
                for line in sim_order.lines
            ]
        },
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


# resolvers -----------------------------------------------------------------------------------

Resolver = Callable[["ShopifySimulator", SimShop, RootField, dict[str, Any]], Any]


def _return(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    found = shop.find_return(args.get("id"))
    return return_node(found, shop) if found else None


def _refund(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    found = shop.find_refund(args.get("id"))
    return refund(found, shop) if found else None


def _order(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    found = shop.find_order(args.get("id"))
    return order(found, shop) if found else None


def _refund_create(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    key = idempotency_key(field)
    if not key:
        raise GraphQLFailure(
            "refundCreate requires the @idempotent directive from API version 2026-04", "IDEMPOTENCY_KEY_REQUIRED"
        )
    return sim.refund_create(shop, args.get("input") or {}, key)


def _decline(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    return sim.api_decline(shop, args.get("input") or {})


def _metafields(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    return sim.metafields_set(shop, args.get("metafields") or [])


def _subscribe(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    return sim.subscribe(shop, str(args.get("topic")), (args.get("webhookSubscription") or {}).get("uri", ""))


RESOLVERS: dict[str, Resolver] = {
    "return": _return,
    "refund": _refund,
    "order": _order,
    "refundCreate": _refund_create,
    "returnDeclineRequest": _decline,
    "metafieldsSet": _metafields,
    "webhookSubscriptionCreate": _subscribe,
}
