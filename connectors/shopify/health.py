"""The janitor's check of a shop's webhook subscriptions: Shopify deletes a subscription made
through the Admin API after 8 failed deliveries in a row (its retry schedule spans 4 hours), so a
hub that was down that long would hear nothing more from the shop. Each check lists the app's own
subscriptions (``webhookSubscriptions``: only those this app made, with their ``uri``) and makes
again every topic of ``SUBSCRIBED_TOPICS`` that no longer points at the hub; what was missed
meanwhile is caught up by ``connectors.shopify.poll``."""

from __future__ import annotations

from connectors.shopify.client import AdminClient
from connectors.shopify.settings import SUBSCRIBED_TOPICS, AppSettings
from connectors.shopify.subscriptions import subscribe_topics
from hub.contracts import StoreContext, StoreDirectory
from hub.errors import PlatformError

SUBSCRIPTIONS_QUERY = """
query HubWebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}
"""
MAX_PAGES = 5  # 500 subscriptions: far more than the hub ever makes


def check_webhooks(app: AppSettings, stores: StoreDirectory, store: StoreContext) -> list[str]:
    """Recreate the hub's missing subscriptions; what was found and done, in plain words."""
    uri = f"{app.app_url}/webhooks/shopify"
    with AdminClient(app, stores, store) as admin:
        try:
            present = _subscribed(admin, uri)
        except PlatformError as exc:
            return [f"the webhook subscriptions could not be read: {exc}"]
        missing = [topic for topic in SUBSCRIBED_TOPICS if topic not in present]
        if not missing:
            return []
        failed = subscribe_topics(admin, uri, missing)
    made = [topic for topic in missing if topic not in failed]
    found = []
    if made:  # Shopify deletes a subscription after 8 failed deliveries in a row
        found.append(f"webhook subscriptions missing, subscribed again: {', '.join(made)}")
    if failed:
        found.append(f"webhook subscriptions missing, could not subscribe again: {', '.join(failed)}")
    return found


def _subscribed(admin: AdminClient, uri: str) -> set[str]:
    """The topics the app's subscriptions on this shop deliver to ``uri``."""
    topics: set[str] = set()
    after: str | None = None
    for _ in range(MAX_PAGES):
        data = admin.read(SUBSCRIPTIONS_QUERY, {"after": after})
        connection = data.get("webhookSubscriptions") or {}
        topics.update(str(n.get("topic")) for n in connection.get("nodes") or () if n.get("uri") == uri)
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            break
        after = str(info["endCursor"])
    return topics
