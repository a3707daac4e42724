"""The hub's webhook subscriptions on a shop, made after an install with ``webhookSubscriptionCreate``.

Every topic of ``SUBSCRIBED_TOPICS`` points at ``{app_url}/webhooks/shopify``. The compliance
topics cannot be subscribed through the Admin API (see ``settings.SUBSCRIBED_TOPICS``).
"""

from __future__ import annotations

from connectors.shopify import bodies
from connectors.shopify.client import AdminClient
from connectors.shopify.settings import SUBSCRIBED_TOPICS, AppSettings
from hub.contracts import StoreContext, StoreDirectory
from hub.errors import PlatformError


def subscribe_webhooks(app: AppSettings, stores: StoreDirectory, store: StoreContext) -> list[str]:
    """webhookSubscriptionCreate per topic; an address already taken (a re-install) is fine."""
    failed: list[str] = []
    uri = f"{app.app_url}/webhooks/shopify"
    with AdminClient(app, stores, store) as admin:
        for topic in SUBSCRIBED_TOPICS:
            try:
                data = admin.read(bodies.WEBHOOK_SUBSCRIBE, {"topic": topic, "subscription": {"uri": uri}})
            except PlatformError:
                failed.append(topic)
                continue
            errors = (data.get("webhookSubscriptionCreate") or {}).get("userErrors") or ()
            if any("taken" not in str(e.get("message", "")).lower() for e in errors):
                failed.append(topic)
    return failed
