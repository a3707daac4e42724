"""A minimal store platform on 127.0.0.1 for the ``sandbox`` connector: orders, refund records,
and signed webhooks. The hub's own tests and first-run demo use it; the real platforms have
their own simulators in ``connectors/<name>/sim/``."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, abort, jsonify, request

from hub.sandbox.base import Simulator
from hub.testing.signing import hmac_base64

SIGNATURE = "X-Sandbox-Signature"


class SandboxPlatform(Simulator):
    name = "sandbox-platform"

    def __init__(
        self,
        store_id: str = "sandbox-store",
        token: str = "sandbox-token",
        webhook_secret: str = "sandbox-webhook-secret",
        **kwargs: Any,
    ) -> None:
        self.store_id = store_id
        self.token = token
        self.webhook_secret = webhook_secret
        self.orders: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, list[dict[str, Any]]] = {}
        self.money_moves: list[dict[str, Any]] = []  # refunds the platform itself paid out
        self._keys: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        super().__init__(**kwargs)

    def hub_settings(self) -> dict[str, Any]:
        return {"webhook_secret": self.webhook_secret}

    def store_config(self, routes: dict[str, str] | None = None) -> dict[str, Any]:
        return {
            "connector": "sandbox",
            "settings": {"api_url": self.url},
            "credentials": {"token": self.token},
            "routes": routes or {},
        }

    def add_order(
        self,
        order_id: str,
        amount: int,
        currency: str = "USD",
        *,
        label: str = "sandbox",
        reference: str | None = None,
        email: str = "buyer@example.com",
        kind: str = "physical",
    ) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        order = {
            "id": order_id,
            "created_at": now,
            "paid_at": now,
            "currency": currency,
            "total": amount,
            "captured": amount,
            "customer": {"id": f"c-{email}", "email": email},
            "lines": [
                {
                    "id": f"{order_id}-1",
                    "sku": "SKU-1",
                    "title": "Item",
                    "quantity": 1,
                    "unit_price": amount,
                    "kind": kind,
                }
            ],
            "payments": [
                {"label": label, "reference": reference or f"pay-{order_id}", "captured": amount, "currency": currency}
            ],
        }
        self.orders[order_id] = order
        self.refunds[order_id] = []
        return order

    def request_refund(
        self,
        order_id: str,
        amount: int,
        *,
        request_id: str | None = None,
        reason: str = "damaged",
        event_id: str | None = None,
        send: bool = True,
    ) -> tuple[bytes, dict[str, str]]:
        body = {
            "topic": "refund.requested",
            "order_id": order_id,
            "request_id": request_id or uuid.uuid4().hex,
            "amount": amount,
            "reason": reason,
        }
        return self.webhook("refund.requested", body, event_id=event_id, send=send)

    def webhook(
        self, topic: str, body: dict[str, Any], *, event_id: str | None = None, send: bool = True
    ) -> tuple[bytes, dict[str, str]]:
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE: hmac_base64(self.webhook_secret, raw),
            "X-Sandbox-Store": self.store_id,
            "X-Sandbox-Topic": topic,
            "X-Sandbox-Event-Id": event_id or uuid.uuid4().hex,
        }
        if send and self.webhook_url:
            self.sender.send(self.webhook_url, raw, headers)
        return raw, headers

    def build_app(self) -> Flask:
        app = Flask(self.name)

        def order_or_404(order_id: str) -> dict[str, Any]:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                abort(401)
            if order_id not in self.orders:
                abort(404)
            return self.orders[order_id]

        @app.get("/orders/<order_id>")
        def get_order(order_id: str) -> Any:
            return jsonify(order_or_404(order_id))

        @app.get("/orders/<order_id>/refunds")
        def list_refunds(order_id: str) -> Any:
            order_or_404(order_id)
            return jsonify(self.refunds[order_id])

        @app.post("/orders/<order_id>/refunds")
        def create_refund(order_id: str) -> Any:
            order = order_or_404(order_id)
            data = request.get_json(force=True)
            with self._lock:
                key = data.get("idempotency_key")
                if key and key in self._keys:
                    return jsonify(self._keys[key]), 201
                refunded = sum(r["amount"] for r in self.refunds[order_id])
                if data["amount"] + refunded > order["captured"] and data.get("api_refund"):
                    return jsonify(code="amount_too_large", message="more than the refundable balance"), 422
                record = {
                    "id": f"sr-{uuid.uuid4().hex[:10]}",
                    "order_id": order_id,
                    "created_at": datetime.now(UTC).isoformat(),
                    "amount": data["amount"],
                    "note": data.get("note", ""),
                    "hub_refund_id": data.get("hub_refund_id"),
                    "api_refund": bool(data.get("api_refund")),
                    "gateway_refund_id": data.get("gateway_refund_id"),
                }
                self.refunds[order_id].append(record)
                if record["api_refund"]:
                    self.money_moves.append(record)
                if key:
                    self._keys[key] = record
            self.webhook("refund.created", {"topic": "refund.created", "order_id": order_id, "refund_id": record["id"]})
            return jsonify(record), 201

        self._listing_routes(app)
        self._control_routes(app)
        return app

    def _listing_routes(self, app: Flask) -> None:
        @app.get("/refunds")
        def list_all_refunds() -> Any:
            """Every refund record since ``created_at_min``, oldest first, ``per_page`` a page."""
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                abort(401)
            since = datetime.fromisoformat(request.args.get("created_at_min", "1970-01-01T00:00:00+00:00"))
            page, per_page = int(request.args.get("page", 1)), min(int(request.args.get("per_page", 50)), 100)
            found = sorted(
                (
                    r
                    for records in self.refunds.values()
                    for r in records
                    if datetime.fromisoformat(r["created_at"]) >= since
                ),
                key=lambda r: (datetime.fromisoformat(r["created_at"]), r["id"]),
            )
            chunk = found[(page - 1) * per_page : page * per_page]
            return jsonify(refunds=chunk, next_page=page + 1 if page * per_page < len(found) else None)

    def add_refund_record(
        self, order_id: str, amount: int, *, gateway_refund_id: str | None = None, hub_refund_id: str | None = None,
        at: datetime | None = None, notify: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """A refund recorded in the store's admin (money moved elsewhere), or a copy of the hub's own
        record (``hub_refund_id``); ``notify`` sends its ``refund.created`` webhook."""
        record = {
            "id": f"sr-{uuid.uuid4().hex[:10]}",
            "order_id": order_id,
            "created_at": (at or datetime.now(UTC)).isoformat(),
            "amount": amount,
            "note": "",
            "hub_refund_id": hub_refund_id,
            "api_refund": False,
            "gateway_refund_id": gateway_refund_id,
        }
        with self._lock:
            self.refunds[order_id].append(record)
        if notify:
            self.webhook("refund.created", {"topic": "refund.created", "order_id": order_id, "refund_id": record["id"]})
        return record

    def _control_routes(self, app: Flask) -> None:
        """``/__sim``: seed an order, and ask for its refund (which sends the signed webhook)."""

        @app.post("/__sim/orders")
        def seed_order() -> Any:
            data = request.get_json(force=True)
            order = self.add_order(
                str(data["id"]),
                int(data["amount"]),
                data.get("currency", "USD"),
                label=data.get("label", "sandbox"),
                reference=data.get("reference"),
                email=data.get("email", "buyer@example.com"),
                kind=data.get("kind", "physical"),
            )
            return jsonify(order), 201

        @app.post("/__sim/refund-requests")
        def seed_request() -> Any:
            data = request.get_json(force=True)
            raw, headers = self.request_refund(
                str(data["order_id"]),
                int(data["amount"]),
                request_id=data.get("request_id"),
                reason=data.get("reason", "damaged"),
                event_id=data.get("event_id"),
            )
            return jsonify(event_id=headers["X-Sandbox-Event-Id"]), 202
