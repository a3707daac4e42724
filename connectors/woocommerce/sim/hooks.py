"""The simulator's webhook delivery, shaped like WooCommerce's ``WC_Webhook::deliver``.

Each delivery is built when it is sent (the order as it is then), signed with the webhook's
secret, sent once (WooCommerce never retries), and counted: a webhook is ``disabled`` after more
than five consecutive failures. ``merging()`` collapses deliveries per (webhook, resource) like
the 10-minute Action Scheduler uniqueness window; ``lose()`` drops the next deliveries on purpose.
A webhook created over REST is pinged before the create call answers, as ``create_item`` does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connectors.woocommerce.sim.seed import now_text
from connectors.woocommerce.sim.state import Shop
from connectors.woocommerce.verify import signature
from hub.sandbox.sender import SentWebhook, WebhookSender

USER_AGENT = "WooCommerce/9.4.0 Hookshot (WordPress/6.7.1)"
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures
PING_TIMEOUT = 10.0  # wp_safe_remote_post's default is 5 s; the simulator's sender may queue a little
# topic -> the PHP hooks that trigger it (WC_Webhook::get_default_topic_hooks)
TOPIC_HOOKS = {
    "order.created": ("woocommerce_new_order",),
    "order.updated": ("woocommerce_update_order", "woocommerce_order_refunded"),
}


def php_json(payload: Any) -> bytes:
    """``wp_json_encode``: compact, ASCII-escaped, and ``/`` escaped as ``\\/`` (only in strings)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


@dataclass
class Lost:
    topic: str
    arg: Any
    body: bytes


class Hookshot:
    """Decides which webhooks a hook fires, builds, signs and sends their deliveries."""

    def __init__(self, shop: Shop, sender: WebhookSender, default_url: Callable[[], str | None]) -> None:
        self.shop = shop
        self.sender = sender
        self.default_url = default_url
        self.lost: list[Lost] = []
        self.pings: list[SentWebhook] = []
        self._lose: list[str | None] = []  # one entry per delivery to drop: a topic, or None for any
        self._pending: dict[tuple[int, Any], str] | None = None
        self._ids = itertools.count(1)  # post ids are never reused
        self._watch: queue.Queue[tuple[int, SentWebhook]] = queue.Queue()
        threading.Thread(target=self._count_failures, name="wc-sim-failures", daemon=True).start()

    def add(
        self, *, name: str, topic: str, secret: str, delivery_url: str | None, status: str = "active", ping: bool = True
    ) -> dict[str, Any]:
        """A webhook; ``delivery_url`` None follows the simulator's ``webhook_url``."""
        resource, _, event = topic.partition(".")
        with self.shop.lock:
            webhook_id = next(self._ids)
            stamp = now_text()
            self.shop.webhooks[webhook_id] = {
                "id": webhook_id,
                "name": name,
                "status": status,
                "topic": topic,
                "resource": resource,
                "event": event,
                "hooks": list(TOPIC_HOOKS.get(topic, (event,) if resource == "action" else ())),
                "delivery_url": delivery_url,
                "secret": secret,
                "failure_count": 0,
                "date_created": stamp,
                "date_created_gmt": stamp,
                "date_modified": stamp,
                "date_modified_gmt": stamp,
            }
        if ping:  # REST ``create_item`` pings whatever the status, and answers only afterwards
            self.ping(webhook_id, wait=True)
        return self.shop.webhooks[webhook_id]

    def render(self, webhook_id: int) -> dict[str, Any]:
        hook = dict(self.shop.webhooks[webhook_id])
        hook.pop("failure_count")
        hook.pop("secret")  # write-only over REST
        hook["delivery_url"] = self.url_of(hook) or ""
        return hook

    def url_of(self, hook: dict[str, Any]) -> str | None:
        return hook["delivery_url"] or self.default_url()

    def lose(self, count: int = 1, topic: str | None = None) -> None:
        with self.shop.lock:
            self._lose.extend([topic] * count)

    @contextmanager
    def merging(self) -> Iterator[None]:
        """Deliveries queued inside are collapsed per (webhook, resource) and sent on exit."""
        self._pending = {}
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            for (webhook_id, arg), hook_name in pending.items():
                self._deliver(webhook_id, hook_name, arg)

    def fire(self, hook_name: str, arg: Any) -> None:
        """A PHP action ran with ``arg``: queue each active webhook listening to it."""
        for webhook_id, hook in list(self.shop.webhooks.items()):
            listens = hook_name in TOPIC_HOOKS.get(hook["topic"], ()) or hook["topic"] == f"action.{hook_name}"
            if hook["status"] != "active" or not listens:
                continue
            if self._pending is not None:
                self._pending.setdefault((webhook_id, arg), hook_name)
            else:
                self._deliver(webhook_id, hook_name, arg)

    def ping(self, webhook_id: int, *, wait: bool = False) -> SentWebhook | None:
        """``WC_Webhook::deliver_ping``: ``webhook_id=N``, unsigned; ``wait`` for its answer (it blocks)."""
        url = self.url_of(self.shop.webhooks[webhook_id])
        if not url:
            return None
        item = self.sender.send(
            url,
            f"webhook_id={webhook_id}".encode(),
            {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
        )
        self.pings.append(item)
        if wait:
            item.done.wait(timeout=PING_TIMEOUT)
        return item

    def _deliver(self, webhook_id: int, hook_name: str, arg: Any) -> None:
        hook = self.shop.webhooks[webhook_id]
        if hook["resource"] == "action":
            payload: Any = {"action": hook_name, "arg": arg}
        else:
            payload = self.shop.render_order(int(arg))
        body = php_json(payload)
        with self.shop.lock:
            drop = bool(self._lose) and self._lose[0] in (None, hook["topic"])
            if drop:
                self._lose.pop(0)
                self.lost.append(Lost(topic=hook["topic"], arg=arg, body=body))
        if drop:
            return
        url = self.url_of(hook)
        if not url:
            return
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": f"{self.shop.home_url()}/",
            "X-WC-Webhook-Topic": hook["topic"],
            "X-WC-Webhook-Resource": hook["resource"],
            "X-WC-Webhook-Event": hook["event"],
            "X-WC-Webhook-Signature": signature(body, hook["secret"]),
            "X-WC-Webhook-ID": str(webhook_id),
            # wp_hash(webhook id . strtotime('now')): one value per webhook and second
            "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{webhook_id}{int(time.time())}".encode()).hexdigest(),
        }
        self._watch.put((webhook_id, self.sender.send(url, body, headers)))

    def _count_failures(self) -> None:
        while True:
            webhook_id, item = self._watch.get()
            item.done.wait(timeout=30)
            hook = self.shop.webhooks.get(webhook_id)
            if hook is None:
                continue
            with self.shop.lock:
                if item.status is not None and 200 <= item.status < 303:
                    hook["failure_count"] = 0
                elif hook["failure_count"] > MAX_FAILURES:
                    hook["status"] = "disabled"
                else:
                    hook["failure_count"] += 1
