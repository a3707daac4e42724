"""Notices from a verified Shopify delivery's stored body (returns, refunds, transactions, privacy topics).

Only the body is signed (``verify``): the topic and shop-domain headers are not, so a delivery is
trusted only for what its body proves.

- Its topic: each topic's reader checks that the body has that topic's shape (a Return, a Refund,
  an OrderTransaction by their ``admin_graphql_api_id``; the shop object of app/uninstalled; each
  compliance body by its own keys). A body of another shape is a ``ParseError`` (a dead letter):
  a refunds/create body replayed as app/uninstalled, or an order as customers/redact, does nothing.
- Its shop: where the body names its shop (compliance topics ``shop_domain``, app/uninstalled the
  shop's ``myshopify_domain``) that name is required and must be the header's, else the notice is
  ignored. Returns and refunds name no shop: ``fetch`` re-reads them with the store's own token.
- Destructive notices (uninstalled, a whole-store redact) are confirmed with Shopify before the
  hub acts on them (``fetch.confirm_gone``).

Every value taken from the body is type-checked (ids are non-negative integers, text is bounded
UTF-8 without NUL); a hostile or type-confused body is a ``ParseError``, never another exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from connectors.shopify.transformers import TOPIC_KINDS, gid
from connectors.shopify.verify import header
from hub.contracts import Delivery, Notice
from hub.errors import ParseError

MAX_TEXT = 500  # characters kept of a free-text hint (Shopify caps decline notes at 500)
_ID = re.compile(r"^[0-9]{1,30}$")
_COMPLIANCE_KEYS = ("customer", "orders_to_redact", "orders_requested", "data_request")


def parse(delivery: Delivery) -> list[Notice]:
    body = _object(delivery)
    topic = delivery.topic
    hints: dict[str, Any] = {
        k: v
        for k, v in {
            "event_id": header(delivery.headers, "event-id"),
            "webhook_id": header(delivery.headers, "webhook-id"),
            "triggered_at": header(delivery.headers, "triggered-at"),
            "api_version": header(delivery.headers, "api-version"),
            "updated_at": _loose(body.get("updated_at")),
            "delivery_id": delivery.id,
        }.items()
        if v
    }
    reader = READERS.get(topic) or (_return if topic.startswith("returns/") else _other)
    return [reader(delivery.store_id, topic, body, hints)]


def _object(delivery: Delivery) -> dict[str, Any]:
    try:
        body = json.loads(delivery.body)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, a 5 000-digit number, deep nesting
        raise ParseError(f"{delivery.topic} body is not readable JSON ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise ParseError(f"{delivery.topic} body is not a JSON object")
    return body


Reader = Callable[[str, str, dict[str, Any], dict[str, Any]], Notice]


def _return(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    kind = TOPIC_KINDS.get(topic, "ignored")
    return_id = _id(body.get("id"), f"{topic} id")
    status = body.get("status")
    if body.get("admin_graphql_api_id") is None and not isinstance(status, str):
        raise _not_topic(topic, "neither a Return gid nor a return status")
    source_ref = _gid(topic, body, "Return", return_id)
    order = _mapping(body.get("order"), f"{topic} order")
    order_id = _maybe_id(order.get("id"), f"{topic} order id") or _maybe_id(body.get("order_id"), f"{topic} order_id")
    hints.update(return_status=_loose(status), decline=_decline(body.get("decline")))
    if kind == "ignored":
        hints["reason"] = f"return {hints['return_status']}: no refund to make"
    return Notice(kind=kind, store_id=store_id, topic=topic, order_id=order_id, source_ref=source_ref, hints=hints)


def _refund(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    refund_id = _id(body.get("id"), f"{topic} id")
    if body.get("admin_graphql_api_id") is None and "refund_line_items" not in body:
        raise _not_topic(topic, "neither a Refund gid nor refund lines")
    source_ref = _gid(topic, body, "Refund", refund_id)
    order_id = _id(body.get("order_id"), f"{topic} order_id")
    hints["refund_id"] = refund_id
    return Notice(
        kind="recorded", store_id=store_id, topic=topic, order_id=order_id, source_ref=source_ref, hints=hints
    )


def _transaction(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    # fetch always re-reads order.transactions, so a transaction event adds nothing to act on
    transaction_id = _id(body.get("id"), f"{topic} id")
    source_ref = _gid(topic, body, "OrderTransaction", transaction_id)
    hints.update(
        reason="payment info is re-read by every fetch",
        kind=_loose(body.get("kind")),
        status=_loose(body.get("status")),
        gateway=_loose(body.get("gateway")),
    )
    order_id = _maybe_id(body.get("order_id"), f"{topic} order_id")
    return Notice(kind="ignored", store_id=store_id, topic=topic, order_id=order_id, source_ref=source_ref, hints=hints)


def _uninstalled(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    """The body is the Shop resource; its ``myshopify_domain`` is the shop that removed the app."""
    if body.get("myshopify_domain") is None or any(k in body for k in ("shop_domain", *_COMPLIANCE_KEYS)):
        raise _not_topic(topic, "not a shop (no myshopify_domain)")
    named = _text(body["myshopify_domain"], f"{topic} myshopify_domain", required=True)
    shop_id = _maybe_id(body.get("id"), f"{topic} shop id")
    if (named or "").lower() != store_id:
        return _foreign(store_id, topic, named, hints)
    return Notice(kind="uninstalled", store_id=store_id, topic=topic, hints={**hints, "shop_id": shop_id})


def _shop_redact(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    """48 hours after an uninstall: everything the hub holds about this shop goes."""
    named = _shop_named(topic, body)
    if any(k in body for k in _COMPLIANCE_KEYS):
        raise _not_topic(topic, "a customer's compliance body")
    shop_id = _maybe_id(body.get("shop_id"), f"{topic} shop_id")
    if named.lower() != store_id:
        return _foreign(store_id, topic, named, hints)
    return Notice(
        kind="redact", store_id=store_id, topic=topic, hints={**hints, "whole_store": True, "shop_id": shop_id}
    )


def _customer_redact(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    named = _shop_named(topic, body)
    if "orders_to_redact" not in body or "customer" not in body or "data_request" in body or "orders_requested" in body:
        raise _not_topic(topic, "not a customer redaction (customer, orders_to_redact)")
    who = _customer(topic, body["customer"])
    order_ids = _ids(body["orders_to_redact"], f"{topic} orders_to_redact")
    if named.lower() != store_id:
        return _foreign(store_id, topic, named, hints)
    return Notice(kind="redact", store_id=store_id, topic=topic, hints={**hints, **who, "order_ids": order_ids})


def _data_request(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    """No refund work: the hub reports what it holds on this customer to the merchant (Shopify
    passes the request on; apps answer the merchant directly)."""
    named = _shop_named(topic, body)
    if "data_request" not in body or "customer" not in body or "orders_to_redact" in body:
        raise _not_topic(topic, "not a customer data request (customer, data_request)")
    who = _customer(topic, body["customer"])
    request = _mapping(body["data_request"], f"{topic} data_request")
    request_id = _maybe_id(request.get("id"), f"{topic} data_request id")
    order_ids = _ids(body.get("orders_requested"), f"{topic} orders_requested")
    if named.lower() != store_id:
        return _foreign(store_id, topic, named, hints)
    return Notice(
        kind="data_request",
        store_id=store_id,
        topic=topic,
        hints={**hints, **who, "order_ids": order_ids, "data_request_id": request_id, "action": "report_held_data"},
    )


def _other(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    hints["reason"] = f"topic {topic} is not about refunds"
    order_id = body.get("order_id")
    return Notice(kind="ignored", store_id=store_id, topic=topic, order_id=_loose_id(order_id), hints=hints)


READERS: dict[str, Reader] = {
    "refunds/create": _refund,
    "order_transactions/create": _transaction,
    "app/uninstalled": _uninstalled,
    "shop/redact": _shop_redact,
    "customers/redact": _customer_redact,
    "customers/data_request": _data_request,
}


# the signed shop -------------------------------------------------------------------------------


def _shop_named(topic: str, body: Mapping[str, Any]) -> str:
    """A compliance body's ``shop_domain``: required, the only shop such a body can act for."""
    if body.get("shop_domain") is None or "myshopify_domain" in body:
        raise _not_topic(topic, "not a compliance body (no shop_domain)")
    return _text(body["shop_domain"], f"{topic} shop_domain", required=True) or ""


def _foreign(store_id: str, topic: str, named: str | None, hints: dict[str, Any]) -> Notice:
    """A replayed body with a swapped shop header must not redact or disable another shop."""
    hints["reason"] = f"signed body names {named}, header names {store_id}"
    return Notice(kind="ignored", store_id=store_id, topic=topic, hints=hints)


def _not_topic(topic: str, what: str) -> ParseError:
    return ParseError(f"the signed body is {what}: not a {topic} body (the topic header is not signed)")


# typed reads of the body ---------------------------------------------------------------------------


def _gid(topic: str, body: Mapping[str, Any], kind: str, tail: str) -> str:
    """The body's ``admin_graphql_api_id``, which must name this ``kind`` and id when present."""
    given = body.get("admin_graphql_api_id")
    expected = gid(kind, tail)
    if given is None:
        return expected
    if given != expected:
        shown = given[:80] if isinstance(given, str) else type(given).__name__
        raise _not_topic(topic, f"{_loose(shown)!r}, not the {kind} {tail}")
    return expected


def _id(value: Any, what: str) -> str:
    """A Shopify numeric id (JSON integer or digit string) as text."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**30:
        return str(value)
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise ParseError(f"{what} is not an id: {type(value).__name__}")


def _maybe_id(value: Any, what: str) -> str | None:
    return None if value is None or value == "" else _id(value, what)


def _loose_id(value: Any) -> str | None:
    """An id that is only informational: kept when it is one, else left out."""
    try:
        return _maybe_id(value, "id")
    except ParseError:
        return None


def _ids(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{what} is not a list")
    return [_id(item, what) for item in value]


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"{what} is not an object")
    return value


def _text(value: Any, what: str, *, required: bool = False) -> str | None:
    """Text the hub acts on (a shop domain, an email): a string it can store, or a ParseError."""
    if value is None or value == "":
        if required:
            raise ParseError(f"{what} is missing")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or _unstorable(value):
        raise ParseError(f"{what} is not text the hub can keep")
    return value


def _loose(value: Any) -> str | None:
    """Informational text (a status, a gateway name): kept when it is plain text, else left out."""
    if not isinstance(value, str) or not value or _unstorable(value):
        return None
    return value[:MAX_TEXT]


def _unstorable(value: str) -> bool:
    """Lone surrogates cannot be encoded as UTF-8; NUL cannot be kept in a database text column."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _decline(value: Any) -> dict[str, str | None] | None:
    if not isinstance(value, dict):
        return None
    return {"reason": _loose(value.get("reason")), "note": _loose(value.get("note"))}


def _customer(topic: str, value: Any) -> dict[str, str | None]:
    customer = _mapping(value, f"{topic} customer")
    return {
        "customer_id": _maybe_id(customer.get("id"), f"{topic} customer id"),
        "email": _text(customer.get("email"), f"{topic} customer email"),
        "phone": _text(customer.get("phone"), f"{topic} customer phone"),
    }
