"""``PayPalSimulator``: PayPal's refund API on 127.0.0.1, close enough that paypal-server-sdk cannot tell.

OAuth tokens, v2 capture refunds (``PayPal-Request-Id`` answers with the latest status of the
first request that used it, whatever the new body says; ``Prefer: return=minimal`` by
default), refund/capture/order/authorization reads, authorization voids, v1 sale refunds and
``verify-webhook-signature`` (SUCCESS only for transmissions it signed, byte for byte). Money
lives in a ``SimLedger`` in hub minor units; refunds settle after ``settle_after`` seconds and
every change is announced with a signed webhook.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from gateways.paypal import money, simsigning
from gateways.paypal import simshapes as shapes
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import FAILED, PENDING, SUCCEEDED, SimError, SimLedger, SimPayment, SimRefund

CAPTURE, SALE, AUTHORIZATION = "capture", "sale", "authorization"
VALUE_PATTERN = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # spec ``money.value``
KEEP = 1000  # recent exchanges and webhooks kept for inspection (a sandbox may run for days)
REFUND_SCOPES = (
    "https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/payments/payment/authcapture"
)

# Ledger refusals -> (v2 status, v2 issue, v1 name) as PayPal words them.
REFUSALS = {
    "already_refunded": (422, "CAPTURE_FULLY_REFUNDED", "TRANSACTION_ALREADY_REFUNDED"),
    "amount_too_large": (422, "REFUND_AMOUNT_EXCEEDED", "REFUND_EXCEEDED_TRANSACTION_AMOUNT"),
    "disputed": (422, "TRANSACTION_DISPUTED", "TRANSACTION_REFUSED"),
}


def paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


class Answer(Exception):
    """Stop handling and answer ``status`` with ``body`` (PayPal's error envelope)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class _Ledger(SimLedger):
    def new_id(self, prefix: str) -> str:  # PayPal ids: 17 upper-case letters and digits
        return paypal_id()


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
        self._tokens: dict[str, float] = {}
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self.outbox: deque[tuple[bytes, dict[str, str]]] = deque(maxlen=KEEP)  # signed webhooks, sent or not
        self.exchanges: deque[dict[str, Any]] = deque(maxlen=KEEP)  # requests and answers, for spec checks
        self.ledger = _Ledger(settle_after=settle_after, on_change=self._announce)
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

    def revoke_tokens(self) -> None:
        self._tokens.clear()

    def rotate_webhook_id(self) -> str:
        self.webhook_id = paypal_id()
        return self.webhook_id

    @property
    def cert_url(self) -> str:
        return f"{self.url}/v1/notifications/certs/CERT-360caa42-fca2a594-sim"

    def sign(self, body: bytes, webhook_id: str | None = None, when: datetime | None = None) -> dict[str, str]:
        """Headers PayPal would send with ``body`` (tests forge old or foreign ones with this)."""
        return simsigning.headers(self._signing_key, self.cert_url, webhook_id or self.webhook_id, body, when)

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
            ("/__sim/payments", "POST", self._sim_payment),
            ("/__sim/refunds", "POST", self._sim_dashboard_refund),
        ]
        for rule, method, view in routes:
            app.add_url_rule(rule, view.__name__, view, methods=[method])
        return app

    def _authenticate(self) -> Any:
        if request.path == "/v1/oauth2/token" or request.path.startswith("/__sim"):
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or self._tokens.get(token, 0) < time.time():
            return jsonify(shapes.error(401)), 401
        return None

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

    def _token(self) -> Any:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.client_id, self.client_secret):
            return jsonify({"error": "invalid_client", "error_description": "Client Authentication failed"}), 401
        if request.form.get("grant_type") != "client_credentials":
            return jsonify({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}), 400
        token = f"A21AA{secrets.token_urlsafe(40)}"
        self._tokens[token] = time.time() + self.token_ttl
        return jsonify(
            {
                "scope": REFUND_SCOPES,
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": self.token_ttl,
                "nonce": secrets.token_hex(16),
            }
        )

    # -- Payments v2 -------------------------------------------------------------------------
    def _refund_capture(self, capture_id: str) -> Any:
        payment = self._payment(capture_id, CAPTURE)
        key = request.headers.get("PayPal-Request-Id")
        minimal = "return=representation" not in request.headers.get("Prefer", "")
        earlier = self._keyed(key)
        if earlier is not None:  # "returns the latest status of the previous request"
            return jsonify(self._v2_refund(earlier, minimal)), 201
        body = self._body()
        amount = self._amount(payment, body.get("amount"), "value", "currency_code", v1=False)
        invoice = body.get("invoice_id")
        if invoice and any(
            r.metadata.get("invoice_id") == invoice and r.key != key for r in list(self.ledger.refunds.values())
        ):
            raise Answer(422, shapes.error(422, "DUPLICATE_INVOICE_ID"))
        metadata = {k: body[k] for k in ("custom_id", "invoice_id", "note_to_payer") if body.get(k)}
        refund = self._create_refund(payment, amount, key, {"api": "v2", **metadata})
        return jsonify(self._v2_refund(refund, minimal)), 201

    def _get_refund(self, refund_id: str) -> Any:
        refund = self.ledger.refunds.get(refund_id)
        if refund is None or refund.metadata.get("api") == "v1":
            raise Answer(404, shapes.error(404, "INVALID_RESOURCE_ID"))
        return jsonify(self._v2_refund(refund, minimal=False))

    def _get_capture(self, capture_id: str) -> Any:
        payment = self._payment(capture_id, CAPTURE)
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
        refunds = [self._v2_refund(r, minimal=False) for p in payments for r in self.ledger.refunds_of(p.id)]
        total = shapes.v2_money(sum(p.amount for p in payments), payments[0].currency)
        return jsonify(shapes.order(self.url, order_id, captures, refunds, total))

    def _get_authorization(self, authorization_id: str) -> Any:
        return jsonify(shapes.authorization(self.url, self._payment(authorization_id, AUTHORIZATION)))

    def _void(self, authorization_id: str) -> Any:
        payment = self._payment(authorization_id, AUTHORIZATION)
        key = request.headers.get("PayPal-Request-Id")
        with self._lock:
            if payment.extra["status"] == "VOIDED" and (key is None or key != payment.extra.get("void_key")):
                raise Answer(422, shapes.error(422, "PREVIOUSLY_VOIDED"))
            first = payment.extra["status"] != "VOIDED"
            payment.extra.update(status="VOIDED", void_key=key)
        body = shapes.authorization(self.url, payment)
        if first:
            self._send(
                "PAYMENT.AUTHORIZATION.VOIDED", "authorization", body, "A payment authorization was voided", "2.0"
            )
        if "return=representation" not in request.headers.get("Prefer", ""):
            return Response(status=204)
        return jsonify(body)

    # -- Payments v1 (deprecated) ----------------------------------------------------------------
    def _refund_sale(self, sale_id: str) -> Any:
        payment = self._payment(sale_id, SALE)
        key = request.headers.get("PayPal-Request-Id")
        earlier = self._keyed(key)
        if earlier is not None:
            return jsonify(self._v1_refund(earlier)), 200  # the v1 spec: 200 for an idempotent repeat
        body = self._body()
        amount = self._amount(payment, body.get("amount"), "total", "currency", v1=True)
        metadata = {"invoice_number": body["invoice_number"]} if body.get("invoice_number") else {}
        refund = self._create_refund(payment, amount, key, {"api": "v1", **metadata})
        return jsonify(self._v1_refund(refund)), 201

    def _get_sale(self, sale_id: str) -> Any:
        payment = self._payment(sale_id, SALE)
        return jsonify(shapes.sale(self.url, payment, self.ledger.refunded(payment.id, include_pending=False)))

    def _get_sale_refund(self, refund_id: str) -> Any:
        refund = self.ledger.refunds.get(refund_id)
        if refund is None or refund.metadata.get("api") != "v1":
            raise Answer(404, shapes.v1_error("INVALID_RESOURCE_ID", "Requested resource ID was not found."))
        return jsonify(self._v1_refund(refund))

    # -- webhooks ----------------------------------------------------------------------------
    def _verify(self) -> Any:
        try:
            members = simsigning.top_level_raw(request.get_data(as_text=True))
            fields = {
                k: json.loads(members[k])
                for k in (
                    "auth_algo",
                    "cert_url",
                    "transmission_id",
                    "transmission_sig",
                    "transmission_time",
                    "webhook_id",
                )
            }
            event = members["webhook_event"]
        except (ValueError, KeyError) as exc:
            raise Answer(400, shapes.v1_error("VALIDATION_ERROR", "Invalid request - see details", str(exc))) from None
        expected = simsigning.signature(
            self._signing_key,
            str(fields["transmission_id"]),
            str(fields["transmission_time"]),
            str(fields["webhook_id"]),
            event.encode(),
        )
        authentic = (
            fields["auth_algo"] == simsigning.AUTH_ALGO
            and fields["cert_url"] == self.cert_url
            and secrets.compare_digest(str(fields["transmission_sig"]), expected)
        )
        return jsonify({"verification_status": "SUCCESS" if authentic else "FAILURE"})

    def _announce(self, refund: SimRefund) -> None:
        """The ledger's ``on_change``: PayPal's webhook for the refund's new state."""
        if refund.metadata.get("api") == "v1":
            if refund.status == SUCCEEDED:
                self._send("PAYMENT.SALE.REFUNDED", "refund", self._v1_refund(refund), "A sale was refunded", "1.0")
            return
        event_type = {
            PENDING: "PAYMENT.REFUND.PENDING",
            SUCCEEDED: "PAYMENT.CAPTURE.REFUNDED",
            FAILED: "PAYMENT.REFUND.FAILED",
        }[refund.status]
        value = money.render(refund.amount, refund.currency)
        summary = f"A {refund.currency} {value} refund is {shapes.V2_STATUS[refund.status]}"
        self._send(event_type, "refund", self._v2_refund(refund, minimal=False), summary, "2.0")

    def _send(self, event_type: str, resource_type: str, resource: dict[str, Any], summary: str, version: str) -> None:
        body = json.dumps(shapes.event(self.url, event_type, resource_type, resource, summary, version)).encode()
        headers = {"Content-Type": "application/json", **self.sign(body)}
        self.outbox.append((body, headers))
        if self.webhook_url:
            self.sender.send(self.webhook_url, body, headers)

    # -- control API ---------------------------------------------------------------------------
    def _sim_payment(self) -> Any:
        spec = request.get_json(force=True)
        payment_id = self.create_payment(
            int(spec["amount"]),
            str(spec.get("currency", "USD")),
            spec.get("id"),
            kind=spec.get("kind", CAPTURE),
            order_id=spec.get("order_id"),
        )
        return jsonify({"id": payment_id}), 201

    def _sim_dashboard_refund(self) -> Any:
        spec = request.get_json(force=True)
        return jsonify({"id": self.add_dashboard_refund(str(spec["payment_id"]), int(spec["amount"]))}), 201

    # -- helpers -------------------------------------------------------------------------------
    def _payment(self, payment_id: str, kind: str) -> SimPayment:
        payment = self.ledger.payments.get(payment_id)
        if payment is None or payment.extra.get("kind") != kind:
            if kind == SALE:
                raise Answer(404, shapes.v1_error("INVALID_RESOURCE_ID", "Requested resource ID was not found."))
            raise Answer(404, shapes.error(404, "INVALID_RESOURCE_ID"))
        return payment

    def _keyed(self, key: str | None) -> SimRefund | None:
        if key is None:
            return None  # without the header PayPal "duplicates the request"
        return next((r for r in list(self.ledger.refunds.values()) if r.key == key), None)

    @staticmethod
    def _body() -> dict[str, Any]:
        raw = request.get_data()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Answer(400, shapes.error(400, "INVALID_PARAMETER_SYNTAX", "The request JSON is not well formed."))
        return body

    @staticmethod
    def _amount(payment: SimPayment, amount: Any, value_key: str, currency_key: str, *, v1: bool) -> int | None:
        """Minor units of a requested amount (None: the whole remainder), refused as PayPal would."""
        if amount is None:
            return None
        value, currency = str(amount.get(value_key, "")), str(amount.get(currency_key, "")).upper()
        try:
            if not VALUE_PATTERN.match(value):
                raise money.AmountNotAccepted("INVALID_PARAMETER_SYNTAX", f"{value!r} is not a decimal amount")
            if currency != payment.currency:
                raise money.AmountNotAccepted(
                    "REFUND_CAPTURE_CURRENCY_MISMATCH", shapes.ISSUES["REFUND_CAPTURE_CURRENCY_MISMATCH"]
                )
            return money.check_value(value, currency)
        except money.AmountNotAccepted as exc:
            if v1:
                raise Answer(400, shapes.v1_error("VALIDATION_ERROR", exc.message, "amount")) from None
            status = 400 if exc.code == "INVALID_PARAMETER_SYNTAX" else 422
            raise Answer(status, shapes.error(status, exc.code, exc.message)) from None

    def _create_refund(
        self, payment: SimPayment, amount: int | None, key: str | None, metadata: dict[str, Any]
    ) -> SimRefund:
        try:
            refund, _ = self.ledger.refund(payment.id, amount, key, fingerprint="", metadata=metadata)
        except SimError as exc:
            status, issue, v1_name = REFUSALS.get(exc.code, (422, "REFUND_NOT_ALLOWED", "TRANSACTION_REFUSED"))
            if metadata["api"] == "v1":
                raise Answer(400, shapes.v1_error(v1_name, exc.message)) from None
            raise Answer(status, shapes.error(status, issue)) from None
        return refund

    def _v2_refund(self, refund: SimRefund, minimal: bool) -> dict[str, Any]:
        return shapes.v2_refund(
            self.url, refund, self.ledger.refunded(refund.payment_id, include_pending=False), minimal
        )

    def _v1_refund(self, refund: SimRefund) -> dict[str, Any]:
        parent = self.ledger.payment(refund.payment_id).extra["parent_payment"]
        return shapes.v1_refund(
            self.url, refund, parent, self.ledger.refunded(refund.payment_id, include_pending=False)
        )
