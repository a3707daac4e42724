"""The traffic: orders across the three platforms paid through the three gateways (and Shopify
Payments), each followed by its platform's own refund request, ~30 % of them delivered again
later with the same bytes and headers (the platforms' retries).

Seeding goes over each simulator's ``/__sim`` control API, as ``refund-hub demo`` does; the
duplicates are re-sent through the simulator's own webhook sender, so they are authentic."""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from hub.runtime.config import Config
from hub.sandbox.base import Simulator
from hub.sandbox.sender import SentWebhook

CURRENCY = "USD"
GATEWAYS = ("stripe", "paypal", "square")
PLATFORMS = ("shopify", "woocommerce", "magento")
# the payment label each store's routes (the starter's) map to the gateway; "platform": Shopify Payments
LABELS = {
    "shopify": {"stripe": "stripe", "paypal": "paypal", "square": "square", "platform": "shopify_payments"},
    "woocommerce": {"stripe": "stripe", "paypal": "ppcp-gateway", "square": "square_credit_card"},
    "magento": {"stripe": "stripe_payments", "paypal": "paypal_express", "square": "squareup_payment"},
}


@dataclass
class Order:
    n: int
    platform: str
    gateway: str  # a gateway account, or "platform" (Shopify Payments)
    lines: tuple[int, int]  # two line prices, minor units
    store_id: str = ""
    order_id: str = ""
    payment_id: str | None = None  # the gateway simulator's payment
    refund_amount: int = 0  # what the platform's request asks for
    requested: bool = False  # the request call went through
    duplicated: int = 0
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.lines)


def plan_orders(count: int, rng: random.Random) -> list[Order]:
    """``count`` orders, the platforms and gateways in turn; Shopify's every fourth on Shopify Payments."""
    orders = []
    for n in range(count):
        platform = PLATFORMS[n % 3]
        gateway = GATEWAYS[(n // 3) % 3]
        if platform == "shopify" and n % 4 == 0:
            gateway = "platform"
        first = rng.randrange(500, 4000)
        orders.append(Order(n, platform, gateway, (first, rng.randrange(first, 9000))))
    return orders


class Resender:
    """Sends duplicates later (a platform's retry), from one thread: the simulators' own senders
    would block their queue on a delayed item."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Simulator, SentWebhook]] = []
        self._seq = itertools.count()
        self._lock = threading.Condition()
        self._stop = False
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="resender", daemon=True)
        self._thread.start()

    def later(self, sim: Simulator, item: SentWebhook, delay: float) -> None:
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), sim, item))
            self._lock.notify()

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stop and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._lock.wait(0.05)
                if self._stop:
                    return
                _, _, sim, item = heapq.heappop(self._heap)
            sim.sender.send(item.url, item.body, dict(item.headers))
            self.sent += 1

    def close(self, flush_within: float = 10.0) -> None:
        deadline = time.monotonic() + flush_within
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            self._stop = True
            self._lock.notify()
        self._thread.join(timeout=5)


class Driver:
    """Seeds orders and asks for their refunds through the simulators' control APIs."""

    def __init__(self, config: Config, sims: dict[str, Simulator], resender: Resender, duplicates: float) -> None:
        self.sims = sims
        self.resender = resender
        self.duplicates = duplicates
        self.urls = {name: sim.url for name, sim in sims.items()}
        self.stores: dict[str, str] = {}
        for store_id, store in config.stores.items():
            self.stores.setdefault(store.connector, store_id)
        self._local = threading.local()
        self._platform_locks = {name: threading.Lock() for name in PLATFORMS}

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        answer = session.post(url, json=body, timeout=10)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def play(self, order: Order, rng: random.Random) -> None:
        order.store_id = self.stores[order.platform]
        try:
            if order.gateway != "platform":
                pay: dict[str, Any] = {"amount": self._charged(order), "currency": CURRENCY}
                if order.platform == "woocommerce" and order.gateway == "paypal":
                    # WooCommerce's PayPal plugin keeps the PayPal order id, and the control API
                    # hands it one reference: the capture and its order share the id
                    pay["id"] = pay["order_id"] = f"WC{order.n:06d}{rng.randrange(16**9):09X}"
                paid = self._post(f"{self.urls[order.gateway]}/__sim/payments", pay)
                order.payment_id = str(paid["id"])
            seed = getattr(self, f"_{order.platform}")
            seed(order, rng)
        except (requests.RequestException, KeyError, ValueError) as exc:
            order.error = f"{type(exc).__name__}: {exc}"

    def _lines(self, order: Order, first_quantity: int = 1) -> list[dict[str, Any]]:
        return [
            {"title": f"Item {order.n}-{i}", "price": p, "quantity": first_quantity if i == 0 else 1}
            for i, p in enumerate(order.lines)
        ]

    def _charged(self, order: Order) -> int:
        return order.total + (order.lines[0] if order.platform == "shopify" else 0)

    def _shopify(self, order: Order, rng: random.Random) -> None:
        url, shop = self.urls["shopify"], order.store_id
        label = LABELS["shopify"][order.gateway]
        # two of the first item, one of them returned: a second payout or a second record of the
        # return would fit the order, so the simulator cannot hide one
        body = {"shop": shop, "lines": self._lines(order, 2), "gateway": label, "reference": order.payment_id}
        made = self._post(f"{url}/__sim/orders", {**body, "email": f"buyer{order.n}@example.com"})
        order.order_id = str(made["id"])
        first_line = made["lines"][0]
        order.refund_amount = int(first_line["price"])  # a partial return: a second payout would fit
        ret = {"shop": shop, "order_id": made["id"], "lines": {str(first_line["id"]): 1}, "reason": "DEFECTIVE"}
        self._request("shopify", order, rng, lambda: self._post(f"{url}/__sim/returns", ret), _shopify_match)

    def _woocommerce(self, order: Order, rng: random.Random) -> None:
        url = self.urls["woocommerce"]
        body = {
            "lines": self._lines(order),
            "payment_method": LABELS["woocommerce"][order.gateway],
            "transaction_id": order.payment_id,
        }
        made = self._post(f"{url}/__sim/orders", body)
        order.order_id = str(made["id"])
        order.refund_amount = order.total
        ask = {"order_id": made["id"], "reason": "Arrived damaged"}
        self._request("woocommerce", order, rng, lambda: self._post(f"{url}/__sim/refund-requests", ask), _woo_match)

    def _magento(self, order: Order, rng: random.Random) -> None:
        url = self.urls["magento"]
        label = LABELS["magento"][order.gateway]
        body = {"lines": self._lines(order), "method": label, "last_trans_id": order.payment_id}
        made = self._post(f"{url}/__sim/orders", body)
        order.order_id = str(made["id"])
        order.refund_amount = order.total
        ask = {"order_id": made["id"], "reason": "Wrong Size"}
        self._request("magento", order, rng, lambda: self._post(f"{url}/__sim/returns", ask), _magento_match)

    def _request(
        self,
        platform: str,
        order: Order,
        rng: random.Random,
        call: Callable[[], dict[str, Any]],
        match: Callable[[Order, dict[str, Any], SentWebhook], bool],
    ) -> None:
        """Ask for the refund; with probability ``duplicates`` send its delivery again, 0-3 s later."""
        sim = self.sims[platform]
        with self._platform_locks[platform]:
            start = len(sim.sender.history)
            answer = call()
            fired = [item for item in sim.sender.history[start:] if match(order, answer, item)]
        order.requested = True
        if fired and rng.random() < self.duplicates:
            for item in fired:
                self.resender.later(sim, item, rng.uniform(0.0, 3.0))
                order.duplicated += 1


def _json(item: SentWebhook) -> Any:
    try:
        return json.loads(item.body)
    except ValueError:
        return None


def _shopify_match(order: Order, answer: dict[str, Any], item: SentWebhook) -> bool:
    body = _json(item)
    return (
        isinstance(body, dict)
        and body.get("id") == answer.get("id")
        and "returns" in str(item.headers.get("X-Shopify-Topic", ""))
    )


def _woo_match(order: Order, answer: dict[str, Any], item: SentWebhook) -> bool:
    body = _json(item)
    return (
        isinstance(body, dict)
        and str(body.get("id")) == order.order_id
        and item.headers.get("X-WC-Webhook-Topic") == "order.updated"
    )


def _magento_match(order: Order, answer: dict[str, Any], item: SentWebhook) -> bool:
    return b"rma_save_after" in item.body and _holds(_json(item), "entity_id", answer.get("id"))


def _holds(node: Any, key: str, value: Any) -> bool:
    """Whether some object in ``node`` has ``key`` equal to ``value`` (ids compared as text)."""
    if isinstance(node, dict):
        return str(node.get(key)) == str(value) or any(_holds(v, key, value) for v in node.values())
    if isinstance(node, list):
        return any(_holds(v, key, value) for v in node)
    return False
