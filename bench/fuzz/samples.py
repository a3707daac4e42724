"""The official sample payloads each endpoint is fuzzed from: the repository's recorded fixtures
(``tests/fixtures/``: shopify.dev webhook samples, the WooCommerce REST docs' orders, Adobe's
CloudEvent envelope example, PayPal's webhook events, the Square and Stripe spec examples).

A sample is a JSON object plus what its delivery says outside the body (the topic)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
OTHER_SHOP = "someone-else.myshopify.com"

# shopify fixture file -> the topic Shopify sends it under
SHOPIFY_TOPICS = {
    "webhook_returns_request.json": "returns/request",
    "webhook_returns_approve.json": "returns/approve",
    "webhook_returns_decline.json": "returns/decline",
    "webhook_returns_close.json": "returns/close",
    "webhook_refunds_create.json": "refunds/create",
    "webhook_orders_paid.json": "orders/paid",
    "webhook_order_transactions_create.json": "order_transactions/create",
    "webhook_customers_data_request.json": "customers/data_request",
    "webhook_customers_redact.json": "customers/redact",
    "webhook_shop_redact.json": "shop/redact",
    "webhook_app_uninstalled.json": "app/uninstalled",
}


@dataclass(frozen=True)
class Sample:
    name: str
    data: dict[str, Any]
    meta: dict[str, str] = field(default_factory=dict)  # topic, channel...

    def fresh(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


def _load(*parts: str) -> Any:
    return json.loads((FIXTURES.joinpath(*parts)).read_text())


def _placeholders(value: Any, shop: str) -> Any:
    """The fixtures' ``{shop}`` placeholder replaced by ``shop``."""
    text = json.dumps(value).replace("{shop}", shop)
    return json.loads(text)


@cache
def shopify() -> tuple[Sample, ...]:
    found = []
    for name, topic in SHOPIFY_TOPICS.items():
        # the uninstall and shop redaction samples name another shop: the run's own store stays installed
        shop = OTHER_SHOP if topic in ("app/uninstalled", "shop/redact") else "{own}"
        data = _placeholders(_load("shopify", name), shop)
        found.append(Sample(name, data, {"topic": topic, "shop": shop}))
    return tuple(found)


@cache
def woocommerce() -> tuple[Sample, ...]:
    order = _load("woocommerce", "rest_v3_get_order_response.json")
    listed = _load("woocommerce", "rest_v3_list_orders_response.json")
    refund = _load("woocommerce", "rest_v3_create_refund_response.json")
    found = [Sample("order.updated 727", order, {"topic": "order.updated"})]
    for item in listed[:3]:
        found.append(Sample(f"order.updated {item['id']}", item, {"topic": "order.updated"}))
    found.append(Sample("order.created 727", order, {"topic": "order.created"}))
    found.append(
        Sample(
            "action.woocommerce_refund_created",
            {"action": "woocommerce_refund_created", "arg": refund["id"]},
            {"topic": "action.woocommerce_refund_created"},
        )
    )
    found.append(
        Sample(
            "action.woocommerce_order_refunded",
            {"action": "woocommerce_order_refunded", "arg": 723},
            {"topic": "action.woocommerce_order_refunded"},
        )
    )
    return tuple(found)


@cache
def magento() -> tuple[Sample, ...]:
    envelope = _load("magento", "adobe_io_events_cloudevent_envelope_example.json")
    found = [Sample("io envelope example", envelope, {"channel": "io"})]
    for event in ("rma_save_after", "sales_order_creditmemo_save_after", "sales_order_save_after"):
        schema = _load("magento", f"adobe_io_events_schema_observer.{event}.json")
        value = _example_of(schema)
        io = copy.deepcopy(envelope)
        io["type"] = f"com.adobe.commerce.observer.{event}"
        io["data"]["value"] = value
        found.append(Sample(f"io observer.{event}", io, {"channel": "io"}))
        found.append(
            Sample(
                f"webhook observer.{event}",
                {"eventName": f"observer.{event}", "data": {event.split("_save")[0]: value}},
                {"channel": "webhook"},
            )
        )
    return tuple(found)


_TYPE_EXAMPLES: dict[str, Any] = {"int": 7, "string": "7", "mixed": "7", "array": [], "boolean": False, "float": 1.5}


def _example_of(schema: Any) -> Any:
    """Adobe's event schema (field -> type name) as a value of those types."""
    if isinstance(schema, dict):
        return {str(k): _example_of(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_example_of(v) for v in schema]
    if isinstance(schema, str) and schema.startswith("object"):
        return {}
    return _TYPE_EXAMPLES.get(str(schema), schema)


@cache
def paypal() -> tuple[Sample, ...]:
    return tuple(
        Sample(name, _load("paypal", name), {})
        for name in ("webhook_capture_refunded.json", "webhook_sale_refunded.json")
    )


@cache
def square() -> tuple[Sample, ...]:
    schemas = _load("specs", "square_refunds.json")["components"]["schemas"]
    return tuple(Sample(name, schemas[name]["example"], {}) for name in ("RefundCreatedEvent", "RefundUpdatedEvent"))


@cache
def stripe() -> tuple[Sample, ...]:
    refund = _load("specs", "stripe_refunds.json")["x-example-refund-fixture"]["value"]
    found = []
    for kind in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
        event = {
            "id": "evt_1PgafuB7WZ01zgkW0example",
            "object": "event",
            "api_version": "2026-07-29.dahlia",
            "created": 1721995000,
            "data": {"object": dict(refund, metadata={"hub_refund_id": "rf_fuzz"})},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        found.append(Sample(f"{kind} (fixtures3 refund)", event, {}))
    return tuple(found)


SAMPLES = {
    "shopify": shopify,
    "woocommerce": woocommerce,
    "magento": magento,
    "stripe": stripe,
    "paypal": paypal,
    "square": square,
}
