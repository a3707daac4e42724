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

or over HTTP (``sim_control``; ``refund-hub demo`` seeds a simulator running in another process):

- ``POST /__sim/orders`` ``{"shop", "lines": [{"title", "price", "quantity"}] | "amount", "gateway",
  "reference"}`` -> 201 with the order (``id``, ``lines``...). ``gateway`` is the payment label
  (``shopify_payments``, ``stripe``, ``paypal``, ``square``...), ``reference`` the outside gateway's
  payment id. ``shop`` may be left out while the simulator holds exactly one shop.
- ``POST /__sim/returns`` ``{"shop", "order_id", "lines": {line id: quantity}, "reason", "deliveries"}``
  -> 202 ``{"id", "gid", "event_id"}``: fires the signed ``returns/request`` webhook, ``deliveries``
  times with the same ``X-Shopify-Event-Id`` (as Shopify's retries do; default 1).
- ``GET /__sim/orders/<id>?shop=`` -> the order with ``refunded`` (money Shopify sent back) and its
  ``refunds`` (each with the ``amount`` its transactions moved: 0 for a record of an outside refund).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, jsonify, request

from connectors.shopify import sim_control, sim_graphql, sim_oauth, sim_rest
from connectors.shopify.config import API_VERSION, SCOPES
from connectors.shopify.sim_oauth import REFRESH_TTL, error_response, sign_query
from connectors.shopify.sim_refunds import RefundDesk
from connectors.shopify.sim_state import (
    SimCall,
    SimLine,
    SimOrder,
    SimRefund,
    SimReturn,
    SimReturnLine,
    SimShop,
    SimTransaction,
    SimWebhook,
    iso,
    next_id,
)
from connectors.shopify.tokens import ShopToken
from connectors.shopify.transformers import SHOPIFY_PROCESSED
from hub.sandbox.base import Simulator
from hub.testing.signing import hmac_base64

SUPPORTED_VERSIONS = ("2026-04", "2026-07", "2026-10")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


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
        self.shops: dict[str, SimShop] = {}
        self.grants: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, tuple[str, float]] = {}
        self.calls: list[SimCall] = []
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
            return sim_oauth.authorize(self, shop)

        @app.post("/store/<shop>/admin/oauth/access_token")
        def access_token(shop: str) -> Any:
            return sim_oauth.access_token(self, shop)

        @app.post("/store/<shop>/admin/api/<version>/graphql.json")
        def graphql(shop: str, version: str) -> Any:
            if version not in SUPPORTED_VERSIONS:
                return error_response({"errors": "Not Found"}, 404)
            sim_shop = self.shops.get(shop)
            if sim_shop is None or not sim_shop.token_valid(request.headers.get("X-Shopify-Access-Token", "")):
                return error_response({"errors": INVALID_TOKEN}, 401)
            payload = request.get_json(silent=True)
            if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
                return error_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
            with self.lock:
                return jsonify(sim_graphql.execute(self, sim_shop, payload["query"], payload.get("variables") or {}))

        sim_control.register(app, self)
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
        domain = _domain(shop)
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
        """An order paid in full by one SALE transaction through ``gateway``.

        Lines are dicts (``title``, ``price`` in minor units, ``quantity``, ``tax``, ``sku``,
        ``kind``: physical/digital/gift_card/subscription) or ``(title, price)`` tuples.
        ``reference`` is the outside gateway's id (Stripe ``pi_``/``ch_``, PayPal capture,
        Square payment) written where Shopify keeps it for that gateway.
        """
        sim_shop = self.shops[_domain(shop)]
        now = time.time()
        with self.lock:
            order = SimOrder(
                id=next_id(),
                shop=sim_shop.domain,
                name=f"#{next(self._names)}",
                email=email,
                customer_id=customer_id or next_id(),
                currency=sim_shop.currency,
                lines=[_line(x) for x in lines],
                shipping=shipping,
                presentment_currency=presentment_currency,
                rate=Decimal(rate),
                taxes_included=taxes_included,
                created_at=iso(now - age_days * 86400),
                fulfilled_at=iso(now - age_days * 43200) if fulfilled else None,
                delivered_at=iso(now - age_days * 21600) if fulfilled and delivered else None,
            )
            order.transactions.append(self._payment(order, gateway, reference))
            sim_shop.orders[order.id] = order
            return order

    def _payment(self, order: SimOrder, gateway: str, reference: str | None) -> SimTransaction:
        tx = SimTransaction(
            id=next_id(),
            order_id=order.id,
            kind="SALE",
            gateway=gateway,
            amount=order.total,
            payment_id=f"c{order.id}.1",
            manual=gateway == "manual",
            created_at=order.created_at,
        )
        label = gateway.lower()
        if label in SHOPIFY_PROCESSED:
            tx.authorization = secrets.token_hex(6)
            tx.ledger_id = self.desk.open_payment(tx, order.currency)
        elif label.startswith("stripe"):
            tx.authorization = reference or f"pi_{secrets.token_hex(12)}"
            tx.receipt = {"charge" if tx.authorization.startswith("ch_") else "payment_intent": tx.authorization}
        elif label.startswith("paypal"):
            tx.authorization = reference or secrets.token_hex(8).upper()
            tx.receipt = {"transaction_id": tx.authorization}
        elif label.startswith("square"):
            tx.authorization = reference or secrets.token_hex(11)
            tx.receipt = {"payment_id": tx.authorization}
        else:
            tx.authorization = reference
        return tx

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
        if lines is None:
            lines = order.lines
        chosen = lines.items() if isinstance(lines, Mapping) else ((line, line.quantity) for line in lines)
        wanted = {(key.id if isinstance(key, SimLine) else key): quantity for key, quantity in chosen}
        with self.lock:
            shop = self.shops[order.shop]
            ret = SimReturn(
                id=next_id(),
                order_id=order.id,
                name=f"{order.name}-R{len(shop.returns) + 1}",
                lines=[
                    SimReturnLine(id=next_id(), line_id=k, quantity=v, reason=reason, note=note)
                    for k, v in wanted.items()
                ],
            )
            shop.returns[ret.id] = ret
            self.fire(shop, "returns/request", sim_rest.return_event(ret, "returns/request"))
            return ret

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
            ret.status = status
            shop = next(s for s in self.shops.values() if ret.id in s.returns)
            self.fire(shop, topic, sim_rest.return_event(ret, topic))
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
        sim_shop = self.shops[_domain(shop)]
        with self.lock:
            sim_shop.access_tokens.clear()
            sim_shop.refresh_tokens.clear()
            self.fire(sim_shop, "app/uninstalled", sim_rest.shop(sim_shop))

    def redact_customer(self, order: SimOrder) -> None:
        shop = self.shops[order.shop]
        self.fire(shop, "customers/redact", sim_rest.customer_redact(shop, order.customer_id, order.email, [order.id]))

    def request_customer_data(self, order: SimOrder) -> None:
        shop = self.shops[order.shop]
        body = sim_rest.data_request(shop, order.customer_id, order.email, [order.id], next_id())
        self.fire(shop, "customers/data_request", body)

    def redact_shop(self, shop: SimShop | str) -> None:
        sim_shop = self.shops[_domain(shop)]
        self.fire(sim_shop, "shop/redact", sim_rest.shop_redact(sim_shop))

    def expire_tokens(self, shop: SimShop | str) -> None:
        """Every access token of the shop stops working now (the app must refresh)."""
        sim_shop = self.shops[_domain(shop)]
        with self.lock:
            for token in sim_shop.access_tokens:
                sim_shop.access_tokens[token] = time.time() - 1

    # what apps did ---------------------------------------------------------------------------

    def mutations(self, field: str, shop: SimShop | str | None = None) -> list[SimCall]:
        return [c for c in self.calls if c.field == field and (shop is None or c.shop == _domain(shop))]

    def refunded(self, order: SimOrder) -> int:
        """Money Shopify sent back on the order (succeeded or in flight)."""
        return sum(
            tx.amount for tx in order.transactions if tx.kind == "REFUND" and tx.status in ("SUCCESS", "PENDING")
        )

    def webhooks_for(self, topic: str, shop: SimShop | str | None = None) -> list[SimWebhook]:
        return [w for w in self.webhooks if w.topic == topic and (shop is None or w.shop == _domain(shop))]

    # the Admin API's mutations ---------------------------------------------------------------

    def refund_create(self, shop: SimShop, refund_input: Mapping[str, Any], key: str) -> dict[str, Any]:
        self.calls.append(SimCall(shop.domain, "refundCreate", refund_input, key))
        return self.desk.refund_create(shop, refund_input, key)

    def api_decline(self, shop: SimShop, decline: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(SimCall(shop.domain, "returnDeclineRequest", decline))
        ret = shop.find_return(decline.get("id"))
        if ret is None:
            return {
                "return": None,
                "userErrors": [{"field": ["id"], "message": "Return does not exist", "code": "NOT_FOUND"}],
            }
        if ret.status != "REQUESTED":
            return {
                "return": None,
                "userErrors": [
                    {
                        "field": ["id"],
                        "message": f"Return is {ret.status.lower()}, not requested",
                        "code": "INVALID_STATE",
                    }
                ],
            }
        ret.decline = {
            "reason": str(decline.get("declineReason", "OTHER")).lower(),
            "note": decline.get("declineNote") or "",
        }
        ret.status = "DECLINED"
        self.fire(shop, "returns/decline", sim_rest.return_event(ret, "returns/decline"))
        return {
            "return": {
                "id": ret.gid,
                "status": ret.status,
                "decline": {"reason": ret.decline["reason"].upper(), "note": ret.decline["note"]},
            },
            "userErrors": [],
        }

    def metafields_set(self, shop: SimShop, metafields: list[Mapping[str, Any]]) -> dict[str, Any]:
        self.calls.append(SimCall(shop.domain, "metafieldsSet", {"metafields": metafields}))
        saved = []
        for index, field in enumerate(metafields):
            order = shop.find_order(field.get("ownerId"))
            if order is None:
                return {
                    "metafields": [],
                    "userErrors": [
                        {
                            "field": ["metafields", str(index), "ownerId"],
                            "message": "Owner does not exist",
                            "code": "INVALID",
                        }
                    ],
                }
            entry = order.metafields.setdefault((field["namespace"], field["key"]), {"id": next_id()})
            entry.update(type=field.get("type"), value=field.get("value"))
            saved.append(
                {"id": f"gid://shopify/Metafield/{entry['id']}", "namespace": field["namespace"], "key": field["key"]}
            )
        return {"metafields": saved, "userErrors": []}

    def subscribe(self, shop: SimShop, topic: str, uri: str) -> dict[str, Any]:
        self.calls.append(SimCall(shop.domain, "webhookSubscriptionCreate", {"topic": topic, "uri": uri}))
        rest_topic = "/".join(topic.lower().rsplit("_", 1))  # ORDER_TRANSACTIONS_CREATE -> order_transactions/create
        uris = shop.subscriptions.setdefault(rest_topic, [])
        if uri in uris:
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        uris.append(uri)
        return {
            "webhookSubscription": {"id": f"gid://shopify/WebhookSubscription/{next_id()}", "topic": topic, "uri": uri},
            "userErrors": [],
        }

    # webhooks --------------------------------------------------------------------------------

    def fire(self, shop: SimShop, topic: str, body: Mapping[str, Any]) -> SimWebhook:
        """Sign and send one event to every subscription of the topic (else to ``webhook_url``)."""
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": hmac_base64(self.api_secret, raw),
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        webhook = SimWebhook(topic=topic, shop=shop.domain, headers=headers, body=raw)
        self.webhooks.append(webhook)
        for url in self._targets(shop, topic):
            self.sender.send(url, raw, {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())})
        return webhook

    def redeliver(self, webhook: SimWebhook) -> None:
        """Send ``webhook`` again, same event id and bytes: Shopify retrying a delivery it thinks failed."""
        for url in self._targets(self.shops[webhook.shop], webhook.topic):
            self.sender.send(url, webhook.body, webhook.headers)

    def _targets(self, shop: SimShop, topic: str) -> list[str]:
        return shop.subscriptions.get(topic) or ([self.webhook_url] if self.webhook_url else [])


def _line(spec: Mapping[str, Any] | tuple[str, int]) -> SimLine:
    if isinstance(spec, tuple):
        spec = {"title": spec[0], "price": spec[1]}
    kind = spec.get("kind", "physical")
    if kind not in ("physical", "digital", "gift_card", "subscription"):
        raise ValueError(f"unknown line kind {kind!r}")
    return SimLine(
        id=next_id(),
        title=spec["title"],
        price=int(spec["price"]),
        quantity=int(spec.get("quantity", 1)),
        tax=int(spec.get("tax", 0)),
        sku=spec.get("sku"),
        kind=kind,
    )


def _domain(shop: SimShop | str) -> str:
    return shop.domain if isinstance(shop, SimShop) else shop
