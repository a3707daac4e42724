"""The simulator's Admin GraphQL: read the operation's root fields, answer them, refuse the rest.

Not a GraphQL engine: it finds the root fields (and their ``$variable`` arguments and
directives) of the document and returns the whole node for each (``shapes``), a superset of what
a client asked. Root fields it does not know get the ``undefinedField`` error Shopify gives.
The mutations the hub sends are answered here; ``refundCreate`` moves money at ``refunds``. While a
``refundCreate`` is being made (``refund_latency`` seconds, 0 by default) its idempotency key is in
flight: another request with that key gets ``IDEMPOTENCY_CONCURRENT_REQUEST``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request

from connectors.shopify.sim import credit, gift_cards, listing, rest, returns, shapes
from connectors.shopify.sim.auth import error_response
from connectors.shopify.sim.state import SimCall, SimShop, iso, next_id, tail

if TYPE_CHECKING:
    from connectors.shopify.sim.server import ShopifySimulator

_HEAD = re.compile(r"^\s*(query|mutation)?\s*[A-Za-z_]*\w*\s*(\([^)]*\))?\s*\{", re.S)
_NAME = re.compile(r"\s*(?:[A-Za-z_]\w*\s*:\s*)?([A-Za-z_]\w*)")
_ARG = re.compile(r'(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|[\w.-]+)')
_IDEMPOTENT = re.compile(r'@idempotent\s*\(\s*key\s*:\s*("(?:[^"\\]|\\.)*")\s*\)')
SUPPORTED_VERSIONS = ("2026-04", "2026-07", "2026-10")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MUTATIONS = (
    "refundCreate",
    "returnDeclineRequest",
    "returnApproveRequest",
    "returnProcess",
    "metafieldsSet",
    "webhookSubscriptionCreate",
    "storeCreditAccountCredit",
    "giftCardCreate",
)


class GraphQLFailure(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.error = {"message": message, "extensions": {"code": code}}


CONCURRENT = GraphQLFailure(
    "A request with this idempotency key is currently in progress.", "IDEMPOTENCY_CONCURRENT_REQUEST"
)


@dataclass(frozen=True)
class RootField:
    name: str
    arguments: str
    directives: str
    selection: str = ""  # what the document asks of the field, between its braces


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
        selection, position = _balanced(document, position, "{", "}")
        fields.append(RootField(name.group(1), arguments, directives, selection))
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


def endpoint(sim: ShopifySimulator, domain: str, version: str) -> Response:
    """``POST /store/<shop>/admin/api/<version>/graphql.json`` with that shop's access token."""
    if version not in SUPPORTED_VERSIONS:
        return error_response({"errors": "Not Found"}, 404)
    shop = sim.shops.get(domain)
    if shop is None or not shop.token_valid(request.headers.get("X-Shopify-Access-Token", "")):
        return error_response({"errors": INVALID_TOKEN}, 401)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return error_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
    keys = _refund_keys(payload["query"])
    with sim.lock:
        if keys & shop.in_flight:
            return jsonify({"errors": [CONCURRENT.error]})
        shop.in_flight |= keys
    try:
        if keys and sim.refund_latency:
            time.sleep(sim.refund_latency)  # the refund is being made: the key is in flight meanwhile
        with sim.lock:
            return jsonify(execute(sim, shop, payload["query"], payload.get("variables") or {}))
    finally:
        with sim.lock:
            shop.in_flight -= keys


def _refund_keys(document: str) -> set[str]:
    """The idempotency keys of the document's refundCreate fields (none if it does not parse)."""
    try:
        _, fields = root_fields(document)
    except (GraphQLFailure, ValueError, AttributeError):
        return set()
    return {key for f in fields if f.name == "refundCreate" and (key := idempotency_key(f))}


def execute(sim: ShopifySimulator, shop: SimShop, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    try:
        kind, fields = root_fields(document)
        data: dict[str, Any] = {}
        sim.field_errors = []
        for field in fields:
            resolver = RESOLVERS.get(field.name)
            if resolver is None or (field.name in MUTATIONS) != (kind == "mutation"):
                root = "Mutation" if kind == "mutation" else "QueryRoot"
                raise GraphQLFailure(f"Field '{field.name}' doesn't exist on type '{root}'", "undefinedField")
            sim.variables = variables
            data[field.name] = resolver(sim, shop, field, arguments(field, variables))
        # a field the shop's grant does not cover is null, beside an error: the rest still answers
        return {"data": data, "errors": sim.field_errors} if sim.field_errors else {"data": data}
    except GraphQLFailure as failure:
        return {"errors": [failure.error]}


# resolvers -----------------------------------------------------------------------------------

Resolver = Callable[["ShopifySimulator", SimShop, RootField, dict[str, Any]], Any]


def _return(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    found = shop.find_return(args.get("id"))
    return shapes.return_node(found, shop) if found else None


def _refund(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    found = shop.find_refund(args.get("id"))
    return shapes.refund(found, shop) if found else None


def _shop(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    return shapes.shop_node(shop)


_SUGGESTED = re.compile(r"suggestedRefund\s*(\([^)]*\))?")
_METAFIELD = re.compile(r'metafield\s*\(\s*key\s*:\s*("(?:[^"\\]|\\.)*")\s*\)')
_CREATED = re.compile(r"created_at:(>=|<=|>|<)'?([0-9T:\-]+Z?)'?")
COUNT_LIMIT = 10_000  # every count field's default limit since 2025-07


def _order(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    found = shop.find_order(args.get("id"))
    if found is None:
        return None
    node = shapes.order(found, shop)
    if "numberOfOrders" in field.selection and "read_customers" not in shop.scopes:
        node["customer"] = None
        sim.field_errors.append(_access_denied("customer", "read_customers"))
    if "tags" in field.selection and "read_products" not in shop.scopes:
        for item in node["lineItems"]["nodes"]:
            item["product"] = None
        sim.field_errors.append(_access_denied("product", "read_products"))
    metafield = _METAFIELD.search(field.selection)
    if metafield:  # Product.metafield(key: "namespace.key"): each line's product answers for itself
        key = json.loads(metafield.group(1))
        for item, line in zip(node["lineItems"]["nodes"], found.lines, strict=True):
            if item["product"] is None:
                continue
            typed = line.metafields.get(key)
            item["product"]["metafield"] = {"type": typed[0], "value": typed[1]} if typed else None
    asked = _SUGGESTED.search(field.selection)
    if asked:  # Order.suggestedRefund(refundLineItems:, refundShipping:): how Shopify would split it
        inner = RootField("suggestedRefund", (asked.group(1) or "()")[1:-1], "")
        wanted = arguments(inner, sim.variables)
        lines = [(tail(i.get("lineItemId")), int(i.get("quantity") or 0)) for i in wanted.get("refundLineItems") or ()]
        shipping = str(wanted.get("refundShipping")).lower() == "true"
        node["suggestedRefund"] = sim.desk.suggest(found, lines, shipping=shipping)
    return node


def _access_denied(field: str, scope: str) -> dict[str, Any]:
    return {
        "message": f"Access denied for {field} field. Required access: `{scope}` access scope.",
        "extensions": {"code": "ACCESS_DENIED", "requiredAccess": f"`{scope}` access scope."},
    }


def _orders_count(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    """``ordersCount(query:, limit:)``: the shop's orders whose ``created_at`` meets every bound of
    the query; above ``limit`` (10 000 unless ``null``) the count stops there, ``AT_LEAST``."""
    bounds = _CREATED.findall(str(args.get("query") or ""))
    tests = {">=": str.__ge__, ">": str.__gt__, "<=": str.__le__, "<": str.__lt__}
    count = sum(all(tests[op](order.created_at, value) for op, value in bounds) for order in shop.orders.values())
    raw_limit = args.get("limit", COUNT_LIMIT)
    limit = None if raw_limit in (None, "null") else int(raw_limit)
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def _refund_create(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    key = idempotency_key(field)
    if not key:
        raise GraphQLFailure(
            "refundCreate requires the @idempotent directive from API version 2026-04", "IDEMPOTENCY_KEY_REQUIRED"
        )
    refund_input = args.get("input") or {}
    sim.calls.append(SimCall(shop.domain, "refundCreate", refund_input, key))
    return sim.desk.refund_create(shop, refund_input, key)


def _user_error(field: list[str], message: str, code: str, **empty: Any) -> dict[str, Any]:
    return {**empty, "userErrors": [{"field": field, "message": message, "code": code}]}


def _decline(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    decline: Mapping[str, Any] = args.get("input") or {}
    sim.calls.append(SimCall(shop.domain, "returnDeclineRequest", decline))
    ret = shop.find_return(decline.get("id"))
    if ret is None:
        return _user_error(["id"], "Return does not exist", "NOT_FOUND", **{"return": None})
    if ret.status != "REQUESTED":
        message = f"Return is {ret.status.lower()}, not requested"
        return _user_error(["id"], message, "INVALID_STATE", **{"return": None})
    ret.decline = {
        "reason": str(decline.get("declineReason", "OTHER")).lower(),
        "note": decline.get("declineNote") or "",
    }
    ret.status, ret.updated_at = "DECLINED", iso()
    sim.fire(shop, "returns/decline", rest.return_event(ret, "returns/decline"))
    return {
        "return": {
            "id": ret.gid,
            "status": ret.status,
            "decline": {"reason": ret.decline["reason"].upper(), "note": ret.decline["note"]},
        },
        "userErrors": [],
    }


def _metafields(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    metafields: list[Mapping[str, Any]] = args.get("metafields") or []
    sim.calls.append(SimCall(shop.domain, "metafieldsSet", {"metafields": metafields}))
    saved = []
    for index, given in enumerate(metafields):
        order = shop.find_order(given.get("ownerId"))
        if order is None:
            return _user_error(["metafields", str(index), "ownerId"], "Owner does not exist", "INVALID", metafields=[])
        entry = order.metafields.setdefault((given["namespace"], given["key"]), {"id": next_id()})
        entry.update(type=given.get("type"), value=given.get("value"))
        saved.append(
            {"id": f"gid://shopify/Metafield/{entry['id']}", "namespace": given["namespace"], "key": given["key"]}
        )
    return {"metafields": saved, "userErrors": []}


def _subscribe(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    topic, uri = str(args.get("topic")), (args.get("webhookSubscription") or {}).get("uri", "")
    sim.calls.append(SimCall(shop.domain, "webhookSubscriptionCreate", {"topic": topic, "uri": uri}))
    rest_topic = "/".join(topic.lower().rsplit("_", 1))  # ORDER_TRANSACTIONS_CREATE -> order_transactions/create
    uris = shop.subscriptions.setdefault(rest_topic, [])
    if uri in uris:
        return {
            "webhookSubscription": None,
            "userErrors": [
                {
                    "field": ["webhookSubscription", "callbackUrl"],
                    "message": "Address for this topic has already been taken",
                }
            ],
        }
    uris.append(uri)
    return {
        "webhookSubscription": {"id": f"gid://shopify/WebhookSubscription/{next_id()}", "topic": topic, "uri": uri},
        "userErrors": [],
    }


def _subscriptions(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    """``webhookSubscriptions``: the app's own subscriptions on the shop, all on one page."""
    made = [(topic, uri) for topic, uris in sorted(shop.subscriptions.items()) for uri in uris]
    nodes = [
        {"id": f"gid://shopify/WebhookSubscription/{n}", "topic": graphql_topic(topic), "uri": uri}
        for n, (topic, uri) in enumerate(made, start=1)
    ]
    return {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}


def graphql_topic(rest_topic: str) -> str:
    return rest_topic.replace("/", "_").upper()  # returns/request -> RETURNS_REQUEST


RESOLVERS: dict[str, Resolver] = {
    "return": _return,
    "refund": _refund,
    "order": _order,
    "shop": _shop,
    "refundCreate": _refund_create,
    "returnDeclineRequest": _decline,
    "returnApproveRequest": returns.approve,  # a returns app opens the request it approves
    "returnProcess": returns.process,  # and processes the return once refunded
    "metafieldsSet": _metafields,
    "webhookSubscriptionCreate": _subscribe,
    "webhookSubscriptions": _subscriptions,  # the janitor's health check
    "storeCreditAccountCredit": credit.credit_account,  # an alternative the hub issues
    "customer": credit.customer,
    "giftCardCreate": gift_cards.create,  # an alternative issued as a gift card
    "giftCards": gift_cards.search,
    "ordersCount": _orders_count,
    "orders": listing.orders,  # reconciliation and backfill read refunds by order
}
