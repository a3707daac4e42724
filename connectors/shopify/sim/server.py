"""A fake Shopify on 127.0.0.1: several shops, OAuth, the Admin GraphQL API, and signed webhooks.

Each shop lives under ``/store/<shop-domain>`` (the connector's ``admin_url`` template stands in
for ``https://{shop}``) with its own tokens: a token of one shop is refused by another. Money
that Shopify itself processes is kept by ``SimLedger``; ``refundCreate`` replays a repeated
idempotency key without moving money again. Seed scenarios from Python::

    sim = ShopifySimulator(webhook_url=hub_url + "/webhooks/shopify").start()
    shop = sim.add_shop("demo.myshopify.com")
    order = sim.add_order(shop, lines=[{"title": "Tee", "price": 2500}], gateway="shopify_payments")
    ret = sim.request_return(order, reason="DEFECTIVE")       # fires returns/request
    stores.add(**sim.store(shop))

or over HTTP with the ``/__sim`` control API (``control``: ``refund-hub demo`` seeds a simulator
running in another process).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask import Flask

from connectors.shopify.auth import ShopToken
from connectors.shopify.settings import API_VERSION, SCOPES
from connectors.shopify.sim import auth, control, hooks, rest, seed
from connectors.shopify.sim.auth import REFRESH_TTL, sign_query
from connectors.shopify.sim.graphql import endpoint
from connectors.shopify.sim.refunds import RefundDesk
from connectors.shopify.sim.state import (
    SimCall,
    SimLine,
    SimOrder,
    SimRefund,
    SimReturn,
    SimShop,
    SimTransaction,
    SimWebhook,
    domain_of,
    iso,
    next_id,
)
from hub.sandbox.base import Simulator


class ShopifySimulator(Simulator):
    name = "shopify"

    def __init__(
        self,
        port: int = 0,
        webhook_url: str | None = None,
        *,
        api_key: str = "sim-shopify-client",
        api_secret: str = "sim-shopify-secret",
        token_ttl: float = 3600,
        refund_settle_after: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.token_ttl = token_ttl
        self.exchanges_of_id_tokens = 0  # embedded installs answered (token exchange of an ID token)
        self.refund_latency = 0.0  # seconds a refundCreate takes; its key is in flight meanwhile
        self.shops: dict[str, SimShop] = {}
        self.grants: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, tuple[str, float]] = {}
        self.calls: list[SimCall] = []
        self.variables: dict[str, Any] = {}  # the variables of the document being answered (under the lock)
        self.field_errors: list[dict[str, Any]] = []  # errors of fields answered null in that document
        self.webhooks: list[SimWebhook] = []
        self.lock = threading.RLock()
        self._names = itertools.count(1001)
        self.desk = RefundDesk(self, settle_after=refund_settle_after)
        super().__init__(port=port, webhook_url=webhook_url)

    # plumbing ------------------------------------------------------------------------------

    def hub_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "admin_url": f"{self.url}/store/{{shop}}",
            "test_mode": True,
            "max_retries": 0,
            "timeout": 5,
        }
        if self.webhook_url:
            settings["app_url"] = self.webhook_url.rsplit("/webhooks/", 1)[0]
        return settings

    def error_body(self, status: int) -> Any:
        return {"errors": "Internal Server Error" if status >= 500 else f"simulated {status}"}

    def stop(self) -> None:
        self.desk.close()
        super().stop()

    def build_app(self) -> Flask:
        app = Flask("shopify-simulator")

        @app.get("/store/<shop>/admin/oauth/authorize")
        def authorize(shop: str) -> Any:
            return auth.authorize(self, shop)

        @app.post("/store/<shop>/admin/oauth/access_token")
        def access_token(shop: str) -> Any:
            return auth.access_token(self, shop)

        @app.post("/store/<shop>/admin/api/<version>/graphql.json")
        def graphql(shop: str, version: str) -> Any:
            return endpoint(self, shop, version)

        control.register(app, self)
        return app

    def sign_query(self, params: Mapping[str, str]) -> str:
        return sign_query(self.api_secret, params)

    # seeding ---------------------------------------------------------------------------------

    def add_shop(
        self,
        domain: str = "demo.myshopify.com",
        *,
        currency: str = "USD",
        installed: bool = True,
        access_token: str | None = None,
    ) -> SimShop:
        """A shop; ``installed`` gives it an expiring token pair at once (see ``store``).
        ``access_token`` instead installs a fixed non-expiring token, as a configured sandbox store
        (a custom app's token) carries in the hub's config file."""
        with self.lock:
            shop = SimShop(domain=domain, currency=currency, name=domain.split(".", 1)[0].title())
            self.shops[domain] = shop
            if access_token:
                shop.access_tokens[access_token] = None
                self.grants[domain] = {"access_token": access_token, "scope": ",".join(SCOPES)}
            elif installed:
                self.grants[domain] = shop.issue(expiring=True, ttl=self.token_ttl, refresh_ttl=REFRESH_TTL)
            return shop

    def store(self, shop: SimShop | str) -> dict[str, Any]:
        """``store_id``, ``settings`` and ``credentials`` for the hub's store directory."""
        domain = domain_of(shop)
        return {
            "store_id": domain,
            "settings": {"api_version": API_VERSION},
            "credentials": ShopToken.from_grant(self.grants[domain]).credentials(),
        }

    def store_config(self, shop: SimShop | str, routes: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The shop as a ``[stores.<id>]`` table of the hub's configuration."""
        entry = self.store(shop)
        return {
            "connector": "shopify",
            "settings": entry["settings"],
            "credentials": entry["credentials"],
            "routes": dict(routes or {}),
        }

    def add_order(
        self,
        shop: SimShop | str,
        lines: Iterable[Mapping[str, Any] | tuple[str, int]],
        *,
        gateway: str = "shopify_payments",
        reference: str | None = None,
        tenders: Sequence[tuple[str, int] | tuple[str, int, str | None]] | None = None,
        shipping: int = 0,
        email: str = "customer@example.com",
        customer_id: int | None = None,
        presentment_currency: str | None = None,
        taxes_included: bool = False,
        rate: str | Decimal = "1",
        fulfilled: bool = True,
        delivered: bool = False,
        age_days: float = 2.0,
    ) -> SimOrder:
        """An order paid in full by one SALE transaction through ``gateway`` — or, with ``tenders``
        (``(gateway, amount[, reference])`` each, adding up to the order's total), paid more than one
        way: a ``gift_card`` plus ``shopify_payments``, a gift card plus an outside ``stripe``...

        Lines are dicts (``title``, ``price`` in minor units, ``quantity``, ``tax``, ``sku``,
        ``kind``: physical/digital/gift_card/subscription) or ``(title, price)`` tuples.
        ``reference`` is the outside gateway's id (Stripe ``pi_``/``ch_``, PayPal capture,
        Square payment) written where Shopify keeps it for that gateway.
        """
        sim_shop = self.shops[domain_of(shop)]
        now = time.time()
        with self.lock:
            order = SimOrder(
                id=next_id(),
                shop=sim_shop.domain,
                name=f"#{next(self._names)}",
                email=email,
                customer_id=customer_id or next_id(),
                currency=sim_shop.currency,
                lines=[seed.line(x) for x in lines],
                shipping=shipping,
                presentment_currency=presentment_currency,
                rate=Decimal(rate),
                taxes_included=taxes_included,
                created_at=iso(now - age_days * 86400),
                fulfilled_at=iso(now - age_days * 43200) if fulfilled else None,
                delivered_at=iso(now - age_days * 21600) if fulfilled and delivered else None,
            )
            for paid in tenders or [(gateway, order.total, reference)]:
                label, amount, ref = paid[0], paid[1], (paid[2] if len(paid) > 2 else None)  # type: ignore[misc]
                order.transactions.append(seed.payment(self.desk, order, label, ref, amount))
            if sum(tx.amount for tx in order.transactions) != order.total:
                raise ValueError(f"tenders add up to {sum(t.amount for t in order.transactions)}, not {order.total}")
            sim_shop.orders[order.id] = order
            return order

    def _payment(self, order: SimOrder, gateway: str, reference: str | None) -> SimTransaction:
        return seed.payment(self.desk, order, gateway, reference)

    def request_return(
        self,
        order: SimOrder,
        lines: Mapping[Any, int] | Iterable[SimLine] | None = None,
        *,
        reason: str = "UNKNOWN",
        note: str = "",
    ) -> SimReturn:
        """The customer asks to return ``lines`` (``{line or line id: quantity}``, or lines returned in
        full; the whole order when None). ``reason`` is a Shopify ReturnReason (DEFECTIVE, WRONG_ITEM...)."""
        with self.lock:
            shop = self.shops[order.shop]
            ret = seed.return_request(shop, order, order.lines if lines is None else lines, reason, note)
            shop.returns[ret.id] = ret
            self.fire(shop, "returns/request", rest.return_event(ret, "returns/request"))
            return ret

    def delete_subscription(self, shop: SimShop, topic: str) -> None:
        """Shopify deletes an Admin API subscription after 8 failed deliveries in a row: ``topic``
        (REST form, e.g. ``returns/request``) is no longer delivered until it is made again."""
        with self.lock:
            shop.subscriptions[topic] = []

    def approve_return(self, ret: SimReturn) -> SimReturn:
        return self._move_return(ret, "OPEN", "returns/approve")

    def decline_return(self, ret: SimReturn, reason: str = "other", note: str = "") -> SimReturn:
        ret.decline = {"reason": reason.lower(), "note": note}
        return self._move_return(ret, "DECLINED", "returns/decline")

    def close_return(self, ret: SimReturn) -> SimReturn:
        ret.closed_at = iso()
        return self._move_return(ret, "CLOSED", "returns/close")

    def _move_return(self, ret: SimReturn, status: str, topic: str) -> SimReturn:
        with self.lock:
            ret.status, ret.updated_at = status, iso()
            shop = next(s for s in self.shops.values() if ret.id in s.returns)
            self.fire(shop, topic, rest.return_event(ret, topic))
            return ret

    def merchant_refund(
        self,
        order: SimOrder,
        amount: int | None = None,
        *,
        lines: Mapping[int, int] | None = None,
        note: str | None = None,
    ) -> SimRefund:
        """A refund made by the merchant in the Shopify admin (fires refunds/create)."""
        return self.desk.admin_refund(self.shops[order.shop], order, amount, lines or {}, note)

    def uninstall(self, shop: SimShop | str) -> None:
        sim_shop = self.shops[domain_of(shop)]
        with self.lock:
            sim_shop.access_tokens.clear()
            sim_shop.refresh_tokens.clear()
            self.fire(sim_shop, "app/uninstalled", rest.shop(sim_shop))

    def redact_customer(self, order: SimOrder) -> None:
        shop = self.shops[order.shop]
        self.fire(shop, "customers/redact", rest.customer_redact(shop, order.customer_id, order.email, [order.id]))

    def request_customer_data(self, order: SimOrder) -> None:
        shop = self.shops[order.shop]
        body = rest.data_request(shop, order.customer_id, order.email, [order.id], next_id())
        self.fire(shop, "customers/data_request", body)

    def redact_shop(self, shop: SimShop | str) -> None:
        sim_shop = self.shops[domain_of(shop)]
        self.fire(sim_shop, "shop/redact", rest.shop_redact(sim_shop))

    def forget_idempotency_keys(self, shop: SimShop | str) -> None:
        """Shopify keeps an ``@idempotent`` key for a limited time only: after it, the same key is new."""
        with self.lock:
            self.shops[domain_of(shop)].idempotency.clear()

    def expire_tokens(self, shop: SimShop | str) -> None:
        """Every access token of the shop stops working now (the app must refresh)."""
        sim_shop = self.shops[domain_of(shop)]
        with self.lock:
            for token in sim_shop.access_tokens:
                sim_shop.access_tokens[token] = time.time() - 1

    # what apps did ---------------------------------------------------------------------------

    def mutations(self, field: str, shop: SimShop | str | None = None) -> list[SimCall]:
        return [c for c in self.calls if c.field == field and (shop is None or c.shop == domain_of(shop))]

    def refunded(self, order: SimOrder) -> int:
        """Money Shopify sent back on the order (succeeded or in flight)."""
        return sum(
            tx.amount for tx in order.transactions if tx.kind == "REFUND" and tx.status in ("SUCCESS", "PENDING")
        )

    def webhooks_for(self, topic: str, shop: SimShop | str | None = None) -> list[SimWebhook]:
        return [w for w in self.webhooks if w.topic == topic and (shop is None or w.shop == domain_of(shop))]

    # webhooks --------------------------------------------------------------------------------

    def fire(self, shop: SimShop, topic: str, body: Mapping[str, Any]) -> SimWebhook:
        """Sign and send one event to every subscription of the topic (else to ``webhook_url``)."""
        return hooks.fire(self, shop, topic, body)

    def redeliver(self, webhook: SimWebhook) -> None:
        """Send ``webhook`` again, same event id and bytes: Shopify retrying a delivery it thinks failed."""
        hooks.redeliver(self, webhook)
