"""Shopify webhooks in: HMAC check on the raw bytes, then notices from the stored body.

Header names are case-insensitive and come in two spellings (``X-Shopify-Topic`` from classic
webhooks, ``shopify-topic`` from Shopify Events). The shop-domain header is NOT covered by the
signature, so the store id it names is only trusted after ``fetch`` re-reads the data with that
store's own token; where the signed body names its shop (compliance topics, app/uninstalled),
the two must agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shopify_app import verify_webhook_req

from connectors.shopify.config import AppSettings, is_shop_domain
from connectors.shopify.transformers import TOPIC_KINDS, gid
from hub.contracts import Delivery, Headers, Inbound, Notice, Verified
from hub.errors import MalformedBody, ParseError, SignatureInvalid, UnsupportedMediaType


def header(headers: Headers | Mapping[str, str], name: str) -> str | None:
    """``name`` without prefix, e.g. ``topic``: tries ``X-Shopify-Topic`` then ``shopify-topic``."""
    for prefix in ("x-shopify-", "shopify-"):
        value = headers.get(prefix + name)
        if value:
            return value.strip()
    return None


def verify(app: AppSettings, inbound: Inbound) -> Verified:
    media = inbound.content_type.split(";", 1)[0].strip().lower()
    if media and media != "application/json":
        raise UnsupportedMediaType(f"Shopify webhooks are application/json, not {media}")
    signature = header(inbound.headers, "hmac-sha256")
    if not signature or not signature.isascii():
        raise SignatureInvalid("missing or unreadable X-Shopify-Hmac-Sha256")
    try:
        text = inbound.body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureInvalid("body is not the UTF-8 JSON Shopify signs") from None
    result = verify_webhook_req(
        {"method": "POST", "headers": {"x-shopify-hmac-sha256": signature}, "url": inbound.url, "body": text},
        {"client_id": app.api_key, "client_secret": app.api_secret, "old_client_secret": app.previous_api_secret},
    )
    if not result.ok:
        raise SignatureInvalid("X-Shopify-Hmac-Sha256 does not match the body")
    topic = header(inbound.headers, "topic")
    shop = (header(inbound.headers, "shop-domain") or "").lower()
    if not topic:
        raise MalformedBody("missing X-Shopify-Topic")
    if not is_shop_domain(shop):
        raise MalformedBody(f"X-Shopify-Shop-Domain {shop!r} is not a *.myshopify.com domain")
    return Verified(store_id=shop, topic=topic, dedupe_key=dedupe_key(shop, topic, inbound))


def dedupe_key(shop: str, topic: str, inbound: Inbound) -> str:
    """One merchant action is one event id across subscriptions and retries; fall back to the
    per-delivery webhook id, then to the body itself."""
    event_id = header(inbound.headers, "event-id")
    if event_id:
        return f"{shop}:{topic}:event:{event_id}"
    webhook_id = header(inbound.headers, "webhook-id")
    if webhook_id:
        return f"{shop}:{topic}:webhook:{webhook_id}"
    return f"{shop}:{topic}:sha256:{hashlib.sha256(inbound.body).hexdigest()}"


def parse(delivery: Delivery) -> list[Notice]:
    try:
        body = json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"{delivery.topic} body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ParseError(f"{delivery.topic} body is not a JSON object")
    topic = delivery.topic
    hints: dict[str, Any] = {
        k: v
        for k, v in {
            "event_id": header(delivery.headers, "event-id"),
            "webhook_id": header(delivery.headers, "webhook-id"),
            "triggered_at": header(delivery.headers, "triggered-at"),
            "api_version": header(delivery.headers, "api-version"),
            "updated_at": body.get("updated_at"),
            "delivery_id": delivery.id,
        }.items()
        if v
    }
    try:
        return [_notice(delivery.store_id, topic, body, hints)]
    except (KeyError, TypeError) as exc:
        raise ParseError(f"{topic} body lacks {exc}") from exc


def _notice(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    kind = TOPIC_KINDS.get(topic, "ignored")
    if topic.startswith("returns/"):
        order = body.get("order") or {}
        order_id = order.get("id") or body.get("order_id")
        hints.update(return_status=body.get("status"), decline=body.get("decline"))
        if kind == "ignored":
            hints["reason"] = f"return {body.get('status')}: no refund to make"
        return Notice(
            kind=kind,
            store_id=store_id,
            topic=topic,
            order_id=_text(order_id),
            source_ref=body.get("admin_graphql_api_id") or gid("Return", body["id"]),
            hints=hints,
        )
    if topic == "refunds/create":
        hints["refund_id"] = str(body["id"])
        return Notice(
            kind=kind,
            store_id=store_id,
            topic=topic,
            order_id=str(body["order_id"]),
            source_ref=body.get("admin_graphql_api_id") or gid("Refund", body["id"]),
            hints=hints,
        )
    if topic == "order_transactions/create":
        # fetch always re-reads order.transactions, so a transaction event adds nothing to act on
        hints.update(
            reason="payment info is re-read by every fetch",
            kind=body.get("kind"),
            status=body.get("status"),
            gateway=body.get("gateway"),
        )
        return Notice(
            kind=kind,
            store_id=store_id,
            topic=topic,
            order_id=_text(body.get("order_id")),
            source_ref=gid("OrderTransaction", body["id"]),
            hints=hints,
        )
    if topic in ("app/uninstalled", "customers/redact", "shop/redact", "customers/data_request"):
        return _privacy(store_id, topic, body, hints)
    hints["reason"] = f"topic {topic} is not about refunds"
    return Notice(kind="ignored", store_id=store_id, topic=topic, order_id=_text(body.get("order_id")), hints=hints)


def _privacy(store_id: str, topic: str, body: dict[str, Any], hints: dict[str, Any]) -> Notice:
    """Uninstall and the mandatory compliance topics. Their signed bodies name the shop, and that
    must match the unsigned header: a replayed body with a swapped header must not redact or
    disable another shop."""
    named = body.get("myshopify_domain") if topic == "app/uninstalled" else body.get("shop_domain")
    if named and str(named).lower() != store_id:
        hints["reason"] = f"signed body names {named}, header names {store_id}"
        return Notice(kind="ignored", store_id=store_id, topic=topic, hints=hints)
    if topic == "app/uninstalled":
        return Notice(
            kind="uninstalled", store_id=store_id, topic=topic, hints={**hints, "shop_id": _text(body.get("id"))}
        )
    if topic == "shop/redact":
        # 48 hours after an uninstall: everything the hub holds about this shop goes
        return Notice(
            kind="redact",
            store_id=store_id,
            topic=topic,
            hints={**hints, "whole_store": True, "shop_id": _text(body.get("shop_id"))},
        )
    customer = body.get("customer") or {}
    who = {"customer_id": _text(customer.get("id")), "email": customer.get("email"), "phone": customer.get("phone")}
    if topic == "customers/redact":
        return Notice(
            kind="redact",
            store_id=store_id,
            topic=topic,
            hints={**hints, **who, "order_ids": [str(o) for o in body.get("orders_to_redact") or ()]},
        )
    # customers/data_request: no refund work, but the hub owes the merchant a report of what it
    # holds on this customer (Shopify passes the request on; apps answer the merchant directly)
    return Notice(
        kind="ignored",
        store_id=store_id,
        topic=topic,
        hints={
            **hints,
            **who,
            "order_ids": [str(o) for o in body.get("orders_requested") or ()],
            "data_request_id": _text((body.get("data_request") or {}).get("id")),
            "action": "report_held_data",
            "reason": "customer data request: report what the hub holds",
        },
    )


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
