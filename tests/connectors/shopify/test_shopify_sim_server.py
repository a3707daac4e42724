"""The simulator stays honest: tokens per shop, unknown operations refused, keys enforced, webhooks signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

import requests

from connectors.shopify import ShopifyConnector
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimShop
from hub.contracts import Execution
from hub.models import RefundRecorded
from hub.testing.stores import MemoryStores

from .conftest import HubStub, delivery_of, notice_of, wait_for


def _post(
    sim: ShopifySimulator,
    shop: SimShop,
    query: str,
    token: str | None = None,
    variables: dict[str, Any] | None = None,
    version: str = "2026-04",
) -> requests.Response:
    token = token if token is not None else sim.store(shop)["credentials"]["access_token"]
    return requests.post(
        f"{sim.url}/store/{shop.domain}/admin/api/{version}/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
        timeout=5,
    )


def test_a_shops_token_opens_only_that_shop(sim: ShopifySimulator, shop: SimShop, other_shop: SimShop) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    query = "query Q($id: ID!) { order(id: $id) { id } }"
    assert _post(sim, shop, query, variables={"id": order.gid}).json()["data"]["order"]["id"] == order.gid
    foreign = sim.store(other_shop)["credentials"]["access_token"]
    refused = _post(sim, shop, query, token=foreign, variables={"id": order.gid})
    assert refused.status_code == 401 and "Invalid API key" in refused.json()["errors"]
    assert _post(sim, other_shop, query, variables={"id": order.gid}).json()["data"]["order"] is None


def test_unknown_fields_and_versions_are_refused(sim: ShopifySimulator, shop: SimShop) -> None:
    unknown = _post(sim, shop, "{ shopifyPaymentsAccount { id } }").json()
    assert unknown["errors"][0]["extensions"]["code"] == "undefinedField"
    mutation_as_query = _post(sim, shop, "query { refundCreate(input: {}) { refund { id } } }").json()
    assert mutation_as_query["errors"][0]["extensions"]["code"] == "undefinedField"
    assert _post(sim, shop, '{ order(id: "1") { id } }', version="2023-01").status_code == 404


def test_refund_create_requires_the_idempotency_directive(sim: ShopifySimulator, shop: SimShop) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    query = "mutation R($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { message } } }"
    refund_input = {
        "orderId": order.gid,
        "transactions": [
            {
                "orderId": order.gid,
                "parentId": f"gid://shopify/OrderTransaction/{order.transactions[0].id}",
                "gateway": "shopify_payments",
                "kind": "REFUND",
                "amount": "10.00",
            }
        ],
    }
    answer = _post(sim, shop, query, variables={"input": refund_input}).json()
    assert answer["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert sim.refunded(order) == 0


def test_webhooks_are_signed_like_shopify(sim: ShopifySimulator, shop: SimShop) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)])
    sim.request_return(order)
    (webhook,) = sim.webhooks_for("returns/request", shop)
    expected = base64.b64encode(hmac.new(sim.api_secret.encode(), webhook.body, hashlib.sha256).digest()).decode()
    assert webhook.headers["X-Shopify-Hmac-Sha256"] == expected
    for name in ("Topic", "Shop-Domain", "Event-Id", "Webhook-Id", "Triggered-At", "API-Version"):
        assert webhook.headers[f"X-Shopify-{name}"]
    body = webhook.json()
    assert set(body) >= {"id", "admin_graphql_api_id", "status", "order", "return_line_items"}
    assert body["status"] == "requested" and body["return_line_items"] == []


def test_refund_echo_arrives_over_http_and_is_recognised(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores
) -> None:
    """The whole loop: a hub refund through refundCreate, its refunds/create delivered to the hub."""
    shop = sim.add_shop(f"loop-{uuid.uuid4().hex[:8]}.myshopify.com")
    stores.add(**sim.store(shop))
    order = sim.add_order(shop, [("Lamp", 4000)])
    connector: ShopifyConnector = hub.connector
    store = stores.get(shop.domain)
    assert store is not None
    execution = Execution(
        hub_refund_id="rf_loop",
        idempotency_key="hub-rf_loop",
        payment_reference=f"gid://shopify/OrderTransaction/{order.transactions[0].id}",
        amount=4000,
        currency="USD",
        order_id=str(order.id),
        payment_extra={"gateway": "shopify_payments"},
    )
    assert connector.refund_on_platform(store, execution).gateway_refund_id
    verified, item = wait_for(lambda: hub.deliveries("refunds/create") and hub.deliveries("refunds/create")[0])
    (notice,) = connector.parse(delivery_of(item, verified))
    echo = connector.fetch(store, notice)
    assert isinstance(echo, RefundRecorded) and echo.request.hub_refund_id == "rf_loop"


def test_compliance_and_uninstall_webhooks_parse(
    sim: ShopifySimulator, shop: SimShop, connector: ShopifyConnector
) -> None:
    order = sim.add_order(shop, [("Lamp", 4000)], email="zoe@example.com")
    sim.redact_customer(order)
    sim.request_customer_data(order)
    sim.redact_shop(shop)
    sim.uninstall(shop)
    kinds = {}
    for topic in ("customers/redact", "customers/data_request", "shop/redact", "app/uninstalled"):
        (webhook,) = sim.webhooks_for(topic, shop)
        kinds[topic] = notice_of(connector, webhook)
    assert kinds["customers/redact"].hints["order_ids"] == [str(order.id)]
    assert kinds["customers/redact"].hints["email"] == "zoe@example.com"
    assert kinds["customers/data_request"].hints["action"] == "report_held_data"
    assert kinds["shop/redact"].hints["whole_store"] is True
    assert kinds["app/uninstalled"].kind == "uninstalled"
    assert _post(sim, shop, '{ order(id: "1") { id } }').status_code == 401  # tokens revoked


def test_a_configured_sandbox_store_with_a_fixed_token(sim: ShopifySimulator, stores: MemoryStores) -> None:
    """What ``refund-hub sandbox`` seeds: a shop whose non-expiring token sits in the config file."""
    shop = sim.add_shop(f"sandbox-{uuid.uuid4().hex[:8]}.myshopify.com", access_token="shpat_sandbox_fixed")
    entry = sim.store_config(shop, routes={"shopify_payments": "platform"})
    assert entry["credentials"] == {"access_token": "shpat_sandbox_fixed", "scope": entry["credentials"]["scope"]}
    stores.add(shop.domain, settings=entry["settings"], credentials=entry["credentials"], routes=entry["routes"])
    order = sim.add_order(shop, [("Lamp", 4000)])
    sim.request_return(order)
    connector = ShopifyConnector(sim.hub_settings(), stores)
    event = connector.fetch(stores.get(shop.domain), notice_of(connector, sim.webhooks_for("returns/request", shop)[0]))  # type: ignore[arg-type]
    assert event.kind == "requested"
