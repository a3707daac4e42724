"""Notices from a verified Shopify delivery's stored body (returns, refunds, transactions, privacy topics).

The shop a delivery is filed under comes from the unsigned header (see ``verify``); where the
signed body names its shop (compliance topics, app/uninstalled), the two must agree here.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.shopify.transformers import TOPIC_KINDS, gid
from connectors.shopify.verify import header
from hub.contracts import Delivery, Notice
from hub.errors import ParseError


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
