"""The hub's webhooks on a store: created at install, kept active by the janitor.

WooCommerce never retries a delivery and sets a webhook to ``disabled`` after repeated
failures (``failed_delivery()`` in ``class-wc-webhook.php``); a merchant may also ``pause`` it.
``ensure_webhooks`` lists the store's webhooks, re-activates the hub's and creates missing ones.

It also keeps, in the store's state, the ids of the hub's webhooks (``KNOWN_WEBHOOKS``), and
opens ``CREATING_WEBHOOKS`` (with a ttl) while it creates some: WooCommerce pings a new webhook
before its REST answer names the id, and ``verify`` stores a ping one by one only when it is one
of the hub's own (see ``verify``).
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.verify import CREATING_WEBHOOKS, KNOWN_WEBHOOKS, MAX_KNOWN_WEBHOOKS, known_webhooks
from hub.contracts import StoreDirectory

HUB_TOPICS = ("order.updated", "action.woocommerce_order_refunded", "action.woocommerce_refund_created")
NAME_PREFIX = "Refund Hub"
WEBHOOK_PATH = "/webhooks/woocommerce"
INACTIVE = ("disabled", "paused")
CREATION_WINDOW = 120.0  # seconds: longer than the creating requests can take (timeout per call)


@dataclass(frozen=True)
class WebhookProblem:
    """Something wrong with one of the hub's webhooks on a store, and what was done about it."""

    topic: str
    webhook_id: str | None
    problem: str  # disabled | paused | missing | unreachable
    action: str  # re-enabled | created | "failed: ..." | "none: ..."

    def __str__(self) -> str:
        name = f"webhook {self.webhook_id} ({self.topic})" if self.webhook_id else f"webhook for {self.topic}"
        return f"{name} was {self.problem}: {self.action}"


def new_secret() -> str:
    """Alphanumeric: WooCommerce HTML-decodes the secret before signing, so no ``&`` or quotes."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(48))


def delivery_url(app_url: str, store_id: str) -> str:
    """The hub endpoint, naming the store so an unsigned creation ping can be attributed."""
    return f"{app_url.rstrip('/')}{WEBHOOK_PATH}?store={quote(store_id, safe='')}"


def ensure_webhooks(
    client: WooClient,
    store_id: str,
    *,
    app_url: str,
    secret: str,
    topics: Sequence[str],
    create_missing: bool = True,
    stores: StoreDirectory | None = None,
) -> list[WebhookProblem]:
    """Re-enable the hub's inactive webhooks and create missing ones; never raises. With
    ``stores``, the ids of the hub's webhooks are kept in the store's state (for ``verify``)."""
    try:
        ours = [h for h in client.every("webhooks") if _is_ours(h, app_url)]
    except WooError as exc:
        return [WebhookProblem(topic="*", webhook_id=None, problem="unreachable", action=f"failed: {exc.message}")]
    missing = [t for t in topics if not any(h.get("topic") == t for h in ours)]
    creating = bool(stores is not None and missing and create_missing and app_url and secret)
    if creating and stores is not None:
        stores.set_state(store_id, CREATING_WEBHOOKS, "1", ttl=CREATION_WINDOW)
    problems = []
    try:
        for topic in topics:
            if topic in missing:
                problems.append(_create(client, store_id, topic, app_url, secret, create_missing))
            for hook in (h for h in ours if h.get("topic") == topic):
                if hook.get("status") in INACTIVE:
                    problems.append(_activate(client, hook))
    finally:
        if stores is not None:
            ids = [str(h.get("id")) for h in ours] + [p.webhook_id for p in problems if p.action == "created"]
            remember_webhooks(stores, store_id, [i for i in ids if i and i.isdigit()])
            if creating:
                stores.set_state(store_id, CREATING_WEBHOOKS, None)
    return problems


def remember_webhooks(stores: StoreDirectory, store_id: str, ids: Sequence[str]) -> None:
    """The store's hub webhook ids, oldest first, the newest ``MAX_KNOWN_WEBHOOKS``; written only on a change."""
    newest = sorted(set(ids), key=int)[-MAX_KNOWN_WEBHOOKS:]
    if newest != known_webhooks(stores, store_id):
        stores.set_state(store_id, KNOWN_WEBHOOKS, json.dumps(newest))


def _is_ours(hook: Mapping[str, Any], app_url: str) -> bool:
    url = str(hook.get("delivery_url") or "")
    endpoint = f"{app_url.rstrip('/')}{WEBHOOK_PATH}" if app_url else None
    return bool(endpoint and url.split("?", 1)[0] == endpoint) or str(hook.get("name") or "").startswith(NAME_PREFIX)


def _create(client: WooClient, store_id: str, topic: str, app_url: str, secret: str, allowed: bool) -> WebhookProblem:
    if not (allowed and app_url and secret):
        why = "creation not allowed here" if not allowed else "no app_url or webhook secret configured"
        return WebhookProblem(topic=topic, webhook_id=None, problem="missing", action=f"none: {why}")
    body = {
        "name": f"{NAME_PREFIX} {topic}",
        "topic": topic,
        "delivery_url": delivery_url(app_url, store_id),
        "secret": secret,
        "status": "active",
    }
    try:
        created = client.post("webhooks", body)
    except WooError as exc:
        return WebhookProblem(topic=topic, webhook_id=None, problem="missing", action=f"failed: {exc.message}")
    return WebhookProblem(topic=topic, webhook_id=str(created.get("id")), problem="missing", action="created")


def _activate(client: WooClient, hook: Mapping[str, Any]) -> WebhookProblem:
    status = str(hook.get("status"))
    try:
        client.put(f"webhooks/{int(hook['id'])}", {"status": "active"})
        action = "re-enabled"
    except WooError as exc:
        action = f"failed: {exc.message}"
    return WebhookProblem(topic=str(hook.get("topic")), webhook_id=str(hook["id"]), problem=status, action=action)
