"""``PayPalSimulator``: PayPal's refund API on 127.0.0.1, close enough that paypal-server-sdk cannot tell.

OAuth tokens (``auth``), v2 capture refunds (``PayPal-Request-Id`` answers with the latest status of the
first request that used it, whatever the new body says; ``Prefer: return=minimal`` by
default), refund/capture/order/authorization reads, authorization voids, v1 sale refunds and
``verify-webhook-signature`` (SUCCESS only for transmissions it signed, byte for byte). Money
lives in a ``SimLedger`` in hub minor units (``state``); refunds settle after ``settle_after`` seconds
(``refunds``) and every change is announced with a signed webhook (``hooks``, ``signing``).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from gateways.paypal import money
from gateways.paypal.sim import auth, control, disputes, hooks, refunds, reporting, shapes, signing
from gateways.paypal.sim.shapes import Answer
from gateways.paypal.sim.state import AUTHORIZATION, CAPTURE, KEEP, SALE, PayPalLedger, paypal_id
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import SimPayment, SimRefund


class PayPalSimulator(Simulator):
    name = "paypal"

    def __init__(
        self,
        port: int = 0,
        webhook_url: str | None = None,
        settle_after: float = 0.0,
        *,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",
        webhook_id: str = "SIMWEBHOOK0000001",
        token_ttl: int = 32400,
    ) -> None:
        self.client_id, self.client_secret, self.webhook_id, self.token_ttl = (
            client_id,
            client_secret,
            webhook_id,
            token_ttl,
        )
        self.tokens: dict[str, float] = {}
        self._expire_in_flight: list[str | None] = []  # path patterns; each expires one token on arrival
        self.signing_key = secrets.token_bytes(32)
        self.lock = threading.RLock()
        self.outbox: deque[tuple[bytes, dict[str, str]]] = deque(maxlen=KEEP)  # signed webhooks, sent or not
        self.exchanges: deque[dict[str, Any]] = deque(maxlen=KEEP)  # requests and answers, for spec checks
        self.disputes: dict[str, dict[str, Any]] = {}  # dispute id -> PayPal's dispute resource
        self.ledger = PayPalLedger(settle_after=settle_after, on_change=self._announce)
        super().__init__(port=port, webhook_url=webhook_url)

    # -- the Python control surface ------------------------------------------------------------
    def hub_settings(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "webhook_id": self.webhook_id,
            "environment": "sandbox",
            "base_url": self.url,
            "timeout": 5,
        }

    def create_payment(
        self,
        amount: int,
        currency: str,
        payment_id: str | None = None,
        *,
        kind: str = CAPTURE,
        order_id: str | None = None,
    ) -> str:
        """A captured payment (``capture``), a v1 ``sale`` or an uncaptured ``authorization``."""
        currency = currency.upper()
        money.to_value(amount, currency)  # refuses amounts PayPal could not have taken
        extra: dict[str, Any] = {"kind": kind, "order_id": order_id or paypal_id()}
        if kind == SALE:
            extra["parent_payment"] = f"PAY-{paypal_id(24)}"
        if kind == AUTHORIZATION:
            extra["status"] = "CREATED"
        return self.ledger.create_payment(amount, currency, payment_id or paypal_id(), **extra).id

    def add_dashboard_refund(self, payment_id: str, amount: int) -> str:
        """A refund the merchant made on paypal.com: no request id, no custom_id, no invoice."""
        api = "v1" if self.ledger.payment(payment_id).extra.get("kind") == SALE else "v2"
        refund, _ = self.ledger.refund(
            payment_id, amount, key=None, fingerprint="", metadata={"api": api}, pending=False
        )
        return refund.id

    def dispute(self, payment_id: str) -> None:
        self.ledger.payment(payment_id).disputed = True

    def open_dispute(self, capture_id: str, amount: int | None = None) -> str:
        """The buyer opens a case on the capture (``CUSTOMER.DISPUTE.CREATED``); returns its id."""
        return disputes.open_dispute(self, capture_id, amount)

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        """PayPal resolves the case (``CUSTOMER.DISPUTE.RESOLVED``) for the seller or the buyer."""
        disputes.resolve(self, dispute_id, "RESOLVED_SELLER_FAVOUR" if won else "RESOLVED_BUYER_FAVOUR")

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far expires now, although ``expires_in`` promised longer."""
        now = time.time()
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = min(self.tokens[token], now - 1)

    def expire_tokens_in_flight(self, times: int = 1, path: str | None = None) -> None:
        """The next ``times`` API requests (matching the regex ``path``) find the token they
        carry expired on arrival: valid when the client sent it, stale when PayPal reads it."""
        with self.lock:
            self._expire_in_flight += [path] * times

    def rotate_webhook_id(self) -> str:
        self.webhook_id = paypal_id()
        return self.webhook_id

    @property
    def cert_url(self) -> str:
        return f"{self.url}/v1/notifications/certs/CERT-360caa42-fca2a594-sim"

    def sign(self, body: bytes, webhook_id: str | None = None, when: datetime | None = None) -> dict[str, str]:
        """Headers PayPal would send with ``body`` (tests forge old or foreign ones with this)."""
        return signing.headers(self.signing_key, self.cert_url, webhook_id or self.webhook_id, body, when)

    def error_body(self, status: int) -> Any:
        return shapes.error(status, "PREVIOUS_REQUEST_IN_PROGRESS" if status == 409 else None)

    def stop(self) -> None:
        self.ledger.close()
        super().stop()

    # -- the HTTP app ------------------------------------------------------------------------
    def build_app(self) -> Flask:
        app = Flask(f"paypal-simulator-{id(self)}")
        app.before_request(self._authenticate)
        app.after_request(self._record)
        app.register_error_handler(Answer, lambda exc: (jsonify(exc.body), exc.status))
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("/v1/oauth2/token", "POST", self._token),
            ("/v2/payments/captures/<capture_id>/refund", "POST", self._refund_capture),
            ("/v2/payments/captures/<capture_id>", "GET", self._get_capture),
            ("/v2/payments/refunds/<refund_id>", "GET", self._get_refund),
            ("/v2/checkout/orders/<order_id>", "GET", self._get_order),
            ("/v2/payments/authorizations/<authorization_id>", "GET", self._get_authorization),
            ("/v2/payments/authorizations/<authorization_id>/void", "POST", self._void),
            ("/v1/payments/sale/<sale_id>/refund", "POST", self._refund_sale),
            ("/v1/payments/sale/<sale_id>", "GET", self._get_sale),
            ("/v1/payments/refund/<refund_id>", "GET", self._get_sale_refund),
            ("/v1/notifications/verify-webhook-signature", "POST", self._verify),
            ("/v1/reporting/transactions", "GET", self._search_transactions),
        ]
        for rule, method, view in routes:
            app.add_url_rule(rule, view.__name__, view, methods=[method])
        disputes.register(app, self)
        control.register(app, self)
        return app

    def _authenticate(self) -> Any:
        if request.path == "/v1/oauth2/token" or request.path.startswith("/__sim"):
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        self._expire_on_arrival(token)
        if scheme != "Bearer" or token not in self.tokens:
            return jsonify(shapes.error(401)), 401
        if self.tokens[token] < time.time():
            # An issued token past its expiry: OAuth 2's answer (RFC 6750 section 3.1).
            return jsonify(shapes.oauth_error("invalid_token", "Access Token expired")), 401
        return None

    def _expire_on_arrival(self, token: str) -> None:
        with self.lock:
            for index, pattern in enumerate(self._expire_in_flight):
                if token in self.tokens and (pattern is None or re.search(pattern, request.path)):
                    del self._expire_in_flight[index]
                    self.tokens[token] = min(self.tokens[token], time.time() - 1)
                    return

    def _record(self, response: Response) -> Response:
        if not request.path.startswith("/__sim"):
            self.exchanges.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "headers": dict(request.headers),
                    "body": request.get_data(),
                    "status": response.status_code,
                    "response": response.get_data(),
                }
            )
        return response

    def _get_refund(self, refund_id: str) -> Any:
        refund = self.ledger.refunds.get(refund_id)
        if refund is None or refund.metadata.get("api") == "v1":
            raise Answer(404, shapes.error(404, "INVALID_RESOURCE_ID"))
        return jsonify(self.v2_refund(refund, minimal=False))

    def _get_capture(self, capture_id: str) -> Any:
        payment = self.payment(capture_id, CAPTURE)
        return jsonify(shapes.capture(self.url, payment, self.ledger.refunded(payment.id, include_pending=False)))

    def _get_order(self, order_id: str) -> Any:
        payments = [
            p
            for p in list(self.ledger.payments.values())
            if p.extra.get("kind") == CAPTURE and p.extra["order_id"] == order_id
        ]
        if not payments:
            raise Answer(404, shapes.error(404, "INVALID_RESOURCE_ID"))
        captures = [shapes.capture(self.url, p, self.ledger.refunded(p.id, include_pending=False)) for p in payments]
        refunds = [self.v2_refund(r, minimal=False) for p in payments for r in self.ledger.refunds_of(p.id)]
        total = shapes.v2_money(sum(p.amount for p in payments), payments[0].currency)
        return jsonify(shapes.order(self.url, order_id, captures, refunds, total))

    def _get_authorization(self, authorization_id: str) -> Any:
        return jsonify(shapes.authorization(self.url, self.payment(authorization_id, AUTHORIZATION)))

    def _get_sale(self, sale_id: str) -> Any:
        payment = self.payment(sale_id, SALE)
        return jsonify(shapes.sale(self.url, payment, self.ledger.refunded(payment.id, include_pending=False)))

    def _get_sale_refund(self, refund_id: str) -> Any:
        refund = self.ledger.refunds.get(refund_id)
        if refund is None or refund.metadata.get("api") != "v1":
            raise Answer(404, shapes.v1_error("INVALID_RESOURCE_ID", "Requested resource ID was not found."))
        return jsonify(self.v1_refund(refund))

    # -- the API's moves (``auth``, ``refunds``, ``hooks``) -----------------------------------------
    def _token(self) -> Any:
        return auth.token(self)

    def _refund_capture(self, capture_id: str) -> Any:
        return refunds.refund_capture(self, capture_id)

    def _void(self, authorization_id: str) -> Any:
        return refunds.void(self, authorization_id)

    def _refund_sale(self, sale_id: str) -> Any:
        return refunds.refund_sale(self, sale_id)

    def _search_transactions(self) -> Any:
        return jsonify(reporting.search(self))

    def _verify(self) -> Any:
        return hooks.verify(self)

    def _announce(self, refund: SimRefund) -> None:
        """The ledger's ``on_change``: PayPal's webhook for the refund's new state."""
        hooks.announce(self, refund)

    # -- helpers -------------------------------------------------------------------------------
    def payment(self, payment_id: str, kind: str) -> SimPayment:
        payment = self.ledger.payments.get(payment_id)
        if payment is None or payment.extra.get("kind") != kind:
            if kind == SALE:
                raise Answer(404, shapes.v1_error("INVALID_RESOURCE_ID", "Requested resource ID was not found."))
            raise Answer(404, shapes.error(404, "INVALID_RESOURCE_ID"))
        return payment

    def v2_refund(self, refund: SimRefund, minimal: bool) -> dict[str, Any]:
        return shapes.v2_refund(
            self.url, refund, self.ledger.refunded(refund.payment_id, include_pending=False), minimal
        )

    def v1_refund(self, refund: SimRefund) -> dict[str, Any]:
        parent = self.ledger.payment(refund.payment_id).extra["parent_payment"]
        return shapes.v1_refund(
            self.url, refund, parent, self.ledger.refunded(refund.payment_id, include_pending=False)
        )
