"""A fake WooCommerce store on 127.0.0.1: REST v3 under ``/wp-json/wc/v3``, key authorization at
``/wc-auth/v1/authorize``, and signed webhooks like ``WC_Webhook::deliver`` sends them.

Seed it from Python (``add_product``, ``add_order``, ``request_refund``, ``add_manual_refund``),
point ``webhook_url`` at the hub's ``/webhooks/woocommerce``, and read back what the hub wrote
(``writes``, ``money_moves``). Refunds created with ``api_refund: true`` move money through
``refund_payment`` (set it to refund at a gateway simulator); ``false`` only records. From another
process, drive it over HTTP with the ``/__sim`` control API (``control``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from flask import Flask, request

from connectors.woocommerce.sim import auth, control
from connectors.woocommerce.sim.analytics import ANALYTICS, analytics_routes
from connectors.woocommerce.sim.auth import KeyCheck
from connectors.woocommerce.sim.hooks import Hookshot, Lost
from connectors.woocommerce.sim.rest import API, error, rest_routes
from connectors.woocommerce.sim.seed import payment_meta
from connectors.woocommerce.sim.state import PaymentRefunder, Shop
from connectors.woocommerce.subscriptions import HUB_TOPICS, WEBHOOK_PATH
from connectors.woocommerce.verify import store_id_for
from hub.sandbox.base import Simulator


class WooCommerceSimulator(Simulator):
    name = "woocommerce"

    def __init__(
        self,
        port: int = 0,
        webhook_url: str | None = None,
        *,
        seed_webhooks: bool = True,
        refund_request_status: str = "refund-requested",
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        webhook_secret: str | None = None,
        first_id: int = 700,
    ) -> None:
        """Keys and secret default to fresh random ones; pass the configured store's to run under
        ``refund-hub sandbox`` (the store id is then ``http://127.0.0.1:<port>``). ``first_id``: where
        the store's post ids start (a store that outlives restarts never hands out an id twice)."""
        self.shop = Shop(home_url=lambda: self.url, first_id=first_id)
        self.auth = KeyCheck()
        self.consumer_key = consumer_key or f"ck_{secrets.token_hex(20)}"
        self.consumer_secret = consumer_secret or f"cs_{secrets.token_hex(20)}"
        self.auth.keys[self.consumer_key] = self.consumer_secret
        self.webhook_secret = webhook_secret or secrets.token_hex(16)
        self.refund_request_status = refund_request_status
        self.writes: list[dict[str, Any]] = []  # every POST/PUT/DELETE the REST API received
        self.authorizations: list[dict[str, Any]] = []
        self.deny_authorization = False
        self._page_faults: list[tuple[str, int, int]] = []  # (collection, page number, HTTP status)
        self._refund_crashes = 0
        self.analytics_fault: int | None = None  # the status the wc-analytics routes answer instead
        super().__init__(port=port, webhook_url=webhook_url)
        self.sender.attempts, self.sender.retry_delay = 1, 0.0  # WooCommerce never retries a delivery
        self.hooks = Hookshot(self.shop, self.sender, lambda: self.webhook_url)
        if seed_webhooks:
            for topic in HUB_TOPICS:
                self.hooks.add(
                    name=f"Refund Hub {topic}", topic=topic, secret=self.webhook_secret, delivery_url=None, ping=False
                )

    def start(self) -> WooCommerceSimulator:
        super().start()
        return self

    # -- what the hub needs ----------------------------------------------------------------
    @property
    def store_id(self) -> str:
        return store_id_for(self.url)

    def hub_settings(self, app_url: str | None = None) -> dict[str, Any]:
        """``[connectors.woocommerce]``; ``app_url`` defaults to the hub base of ``webhook_url``."""
        base = (self.webhook_url or "").split("?", 1)[0]
        derived = base[: -len(WEBHOOK_PATH)] if base.endswith(WEBHOOK_PATH) else ""
        return {"test_mode": True, "app_url": app_url or derived, "timeout": 5.0}

    def store_config(self, routes: Mapping[str, str] | None = None, **settings: Any) -> dict[str, Any]:
        """The hub store for this shop (id: ``store_id``), with REST keys and the webhook secret."""
        return {
            "connector": "woocommerce",
            "settings": {"url": self.url, "refund_request_status": self.refund_request_status, **settings},
            "credentials": {
                "consumer_key": self.consumer_key,
                "consumer_secret": self.consumer_secret,
                "webhook_secret": self.webhook_secret,
            },
            "routes": dict(routes or {}),
        }

    def error_body(self, status: int) -> Any:
        return {"code": "internal_server_error", "message": f"simulated {status}", "data": {"status": status}}

    # -- seeding ---------------------------------------------------------------------------
    def add_product(self, name: str = "Widget", price: str = "20.00", **options: Any) -> dict[str, Any]:
        return self.shop.add_product(name, price, **options)

    def add_order(
        self,
        lines: Sequence[tuple[int, int]] | None = None,
        *,
        payment_method: str = "stripe",
        transaction_id: str = "",
        currency: str = "USD",
        shipping: str = "10.00",
        tax_rate: str = "0",
        customer_id: int = 0,
        email: str = "buyer@example.com",
        status: str = "processing",
        intent_id: str | None = None,
        paypal_order_id: str | None = None,
        intent: str = "CAPTURE",
        captured: bool = True,
        meta: Mapping[str, Any] | None = None,
        gift_cards: Sequence[tuple[int, str]] = (),
    ) -> dict[str, Any]:
        """An order paid through ``payment_method`` with the gateway's ``transaction_id`` and meta;
        ``gift_cards`` (``(id, amount)`` each, e.g. ``(7, "30.00")``) redeemed on it pay part of it."""
        if lines is None:
            lines = [(int(self.add_product()["id"]), 1)]
        values = payment_meta(
            payment_method, intent_id=intent_id, paypal_order_id=paypal_order_id, intent=intent, captured=captured
        )
        order = self.shop.add_order(
            lines,
            currency=currency,
            payment_method=payment_method,
            transaction_id=transaction_id,
            shipping=shipping,
            tax_rate=tax_rate,
            customer_id=customer_id,
            email=email,
            status=status,
            meta={**values, **dict(meta or {})},
            gift_cards=gift_cards,
        )
        self.hooks.fire("woocommerce_new_order", order["id"])
        return self.shop.render_order(order["id"])

    def request_refund(self, order_id: int, reason: str = "", *, action: str | None = None, asked: Any = None) -> None:
        """The customer asks for a refund: the order moves to the refund-request status
        (``order.updated``), and a returns plugin may also fire its own ``action`` hook. ``asked``:
        what the plugin writes to ``_refund_hub_request`` (an object, or its JSON text) for a
        request of some lines or an amount."""
        with self.shop.lock:
            order = self.shop.orders[order_id]
            if reason:
                self.shop.add_meta(order, {"_refund_reason": reason})
            if asked is not None:
                self.shop.add_meta(order, {"_refund_hub_request": asked})
            self.shop.touch(order, status=self.refund_request_status)
        self.hooks.fire("woocommerce_update_order", order_id)
        if action:
            self.hooks.fire(action, order_id)

    def set_status(self, order_id: int, status: str) -> None:
        with self.shop.lock:
            self.shop.touch(self.shop.orders[order_id], status=status)
        self.hooks.fire("woocommerce_update_order", order_id)

    def add_manual_refund(
        self,
        order_id: int,
        amount: str,
        reason: str = "",
        *,
        line_items: Sequence[Mapping[str, Any]] = (),
        api_refund: bool = False,
    ) -> dict[str, Any]:
        """A refund the merchant makes in wp-admin: "Refund manually" unless ``api_refund``."""
        refund = self.shop.create_refund(
            order_id, {"amount": amount, "reason": reason, "api_refund": api_refund, "line_items": list(line_items)}
        )
        self.fire_refund_hooks(order_id, refund["id"])
        return self.shop.render_refund(refund["id"])

    def download(self, order_id: int, product_id: int, times: int = 1) -> None:
        self.shop.download(order_id, product_id, times)

    def merged(self) -> AbstractContextManager[None]:
        """Deliveries inside are merged per (webhook, resource) and built when sent, on exit."""
        return self.hooks.merging()

    def lose_deliveries(self, count: int = 1, topic: str | None = None) -> None:
        """Drop the next ``count`` deliveries (of ``topic``) as if the hub never got them."""
        self.hooks.lose(count, topic)

    def crash_refund_before_meta(self, times: int = 1) -> None:
        """The next ``times`` REST refunds are created (reason, lines, payment, hooks) but the request
        dies before WooCommerce saves their ``meta_data``, and no answer comes."""
        with self.shop.lock:
            self._refund_crashes += times

    def take_refund_crash(self) -> bool:
        with self.shop.lock:
            if self._refund_crashes <= 0:
                return False
            self._refund_crashes -= 1
            return True

    def fail_page(self, page: int, status: int = 500, collection: str = "orders") -> None:
        """The next ``GET /{collection}?page={page}`` answers ``status`` (a listing failing half way)."""
        with self.shop.lock:
            self._page_faults.append((collection, page, status))

    def take_page_fault(self, collection: str, page: int) -> int | None:
        with self.shop.lock:
            for fault in self._page_faults:
                if fault[:2] == (collection, page):
                    self._page_faults.remove(fault)
                    return fault[2]
        return None

    def set_webhook_status(self, webhook_id: int, status: str) -> None:
        self.shop.webhooks[webhook_id]["status"] = status

    @property
    def lost(self) -> list[Lost]:
        return self.hooks.lost

    @property
    def money_moves(self) -> list[dict[str, Any]]:
        return self.shop.money_moves

    @property
    def refund_payment(self) -> PaymentRefunder | None:
        return self.shop.refund_payment

    @refund_payment.setter
    def refund_payment(self, refunder: PaymentRefunder | None) -> None:
        """``(order, amount in minor units, reason) -> gateway refund id``; raise to decline."""
        self.shop.refund_payment = refunder

    def fire_refund_hooks(self, order_id: int, refund_id: int) -> None:
        self.hooks.fire("woocommerce_refund_created", refund_id)
        self.hooks.fire("woocommerce_order_refunded", order_id)

    # -- the HTTP side ---------------------------------------------------------------------
    def build_app(self) -> Flask:
        app = Flask(self.name)

        @app.before_request
        def _authenticate() -> Any:
            if not request.path.startswith((API, ANALYTICS)):  # WooCommerce's keys open every wc- namespace
                return None
            if self.auth.consumer(request) is None:
                return error("woocommerce_rest_authentication_error", "Consumer key or signature is invalid.", 401)
            if request.method in ("POST", "PUT", "DELETE"):
                self.writes.append(
                    {"method": request.method, "path": request.path[len(API) :], "body": request.get_json(silent=True)}
                )
            return None

        rest_routes(app, self)
        analytics_routes(app, self)
        control.register(app, self)

        @app.get("/wc-auth/v1/authorize")
        def authorize() -> Any:
            return auth.authorize(self)

        return app
