"""The hub's webhook subscriptions on a shop, made after an install with ``webhookSubscriptionCreate``.

Every topic of ``SUBSCRIBED_TOPICS`` points at ``{app_url}/webhooks/shopify``. The compliance
topics cannot be subscribed through the Admin API (see ``settings.SUBSCRIBED_TOPICS``).
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.shopify import bodies
from connectors.shopify.client import AdminClient
from connectors.shopify.settings import SUBSCRIBED_TOPICS, AppSettings
from hub.contracts import StoreContext, StoreDirectory
from hub.errors import PlatformError


def subscribe_webhooks(app: AppSettings, stores: StoreDirectory, store: StoreContext) -> list[str]:
    """webhookSubscriptionCreate per topic; an address already taken (a re-install) is fine."""
    with AdminClient(app, stores, store) as admin:
        return subscribe_topics(admin, f"{app.app_url}/webhooks/shopify", SUBSCRIBED_TOPICS)


def subscribe_topics(admin: AdminClient, uri: str, topics: Iterable[str]) -> list[str]:
    """Subscribe ``uri`` to each topic; the topics that failed."""
    failed: list[str] = []
    for topic in topics:
        try:
            data = admin.read(bodies.WEBHOOK_SUBSCRIBE, {"topic": topic, "subscription": {"uri": uri}})
        except PlatformError:
            failed.append(topic)
            continue
        errors = (data.get("webhookSubscriptionCreate") or {}).get("userErrors") or ()
        if any("taken" not in str(e.get("message", "")).lower() for e in errors):
            failed.append(topic)
    return failed
