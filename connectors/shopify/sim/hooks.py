"""The Shopify simulator's webhooks: signed like Shopify signs them, sent to every subscription of the topic.

Headers are Shopify's classic ones (``X-Shopify-Hmac-Sha256`` over the raw body with the app's
secret, topic, shop domain, API version, event id, webhook id, triggered-at). A shop without a
subscription for the topic delivers to the simulator's ``webhook_url``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.shopify.settings import API_VERSION
from connectors.shopify.sim.state import SimShop, SimWebhook
from hub.testing.signing import hmac_base64

if TYPE_CHECKING:
    from connectors.shopify.sim.server import ShopifySimulator


def fire(sim: ShopifySimulator, shop: SimShop, topic: str, body: Mapping[str, Any]) -> SimWebhook:
    """Sign and send one event to every subscription of the topic (else to ``webhook_url``)."""
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": hmac_base64(sim.api_secret, raw),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop.domain,
        "X-Shopify-API-Version": API_VERSION,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    webhook = SimWebhook(topic=topic, shop=shop.domain, headers=headers, body=raw)
    sim.webhooks.append(webhook)
    for url in targets(sim, shop, topic):
        sim.sender.send(url, raw, {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())})
    return webhook


def redeliver(sim: ShopifySimulator, webhook: SimWebhook) -> None:
    """Send ``webhook`` again, same event id and bytes: Shopify retrying a delivery it thinks failed."""
    for url in targets(sim, sim.shops[webhook.shop], webhook.topic):
        sim.sender.send(url, webhook.body, webhook.headers)


def targets(sim: ShopifySimulator, shop: SimShop, topic: str) -> list[str]:
    """Where a topic's webhooks go: nowhere while sending is off (``webhook_url`` None: a test keeps
    what the simulator signs), else its subscriptions (none once Shopify deleted them), else the hub."""
    if sim.webhook_url is None:
        return []
    if topic in shop.subscriptions:
        return shop.subscriptions[topic]
    return [sim.webhook_url] if sim.webhook_url else []
