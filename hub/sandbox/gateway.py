"""The ``sandbox`` gateway: a tiny JSON refund API on 127.0.0.1 and its adapter.

The hub's core tests run the whole pipeline against it (with fault injection: latency,
errors, resets, lost responses); the real gateways (Stripe, PayPal, Square) have faithful
simulators of their own in ``gateways/<name>/sim/``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import requests
from flask import Flask, jsonify, request

from hub.contracts import (
    Execution,
    Gateway,
    GatewayEvent,
    Inbound,
    Outcome,
    PaymentState,
    RefundLookup,
    RefundResult,
    Verified,
)
from hub.errors import ParseError, SignatureInvalid
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import FAILED, PENDING, SUCCEEDED, SimError, SimLedger, SimRefund
from hub.testing.signing import hmac_base64

STATUS = {SUCCEEDED: Outcome.SUCCEEDED, PENDING: Outcome.PENDING, FAILED: Outcome.FAILED}


def _result(data: Mapping[str, Any]) -> RefundResult:
    return RefundResult(
        STATUS[data["status"]],
        gateway_refund_id=data["id"],
        amount=data["amount"],
        currency=data["currency"],
        raw_status=data["status"],
    )


class SandboxGateway(Gateway):
    name = "sandbox"
    replay_window: ClassVar[timedelta | None] = timedelta(days=365)  # the simulator keeps keys forever
    lookup_is_complete: ClassVar[bool] = True

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.settings['base_url']}{path}",
            timeout=float(self.settings.get("timeout", 5)),
            headers={"Authorization": f"Bearer {self.settings.get('api_key', '')}"},
            **kwargs,
        )

    def refund(self, execution: Execution) -> RefundResult:
        try:
            response = self._call(
                "POST",
                "/refunds",
                json={
                    "payment": execution.payment_reference,
                    "amount": execution.amount,
                    "currency": execution.currency,
                    "key": execution.idempotency_key,
                    "hub_refund_id": execution.hub_refund_id,
                },
            )
        except requests.ConnectionError as exc:
            refused = "refused" in str(exc).lower()
            return RefundResult(Outcome.UNAVAILABLE if refused else Outcome.UNKNOWN, message=str(exc)[:300])
        except requests.RequestException as exc:
            return RefundResult(Outcome.UNKNOWN, message=str(exc)[:300])
        if response.status_code >= 500 or response.status_code == 409:
            return RefundResult(Outcome.UNKNOWN, code=str(response.status_code), message=response.text[:300])
        if response.status_code == 429:
            return RefundResult(Outcome.UNAVAILABLE, code="rate_limited")
        if response.status_code >= 400:
            error = response.json()
            return RefundResult(Outcome.FAILED, code=error.get("code"), message=error.get("message"))
        return _result(response.json())

    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        try:
            response = self._call("GET", f"/payments/{lookup.payment_reference}")
        except requests.RequestException:
            return RefundResult(Outcome.UNKNOWN, message="lookup failed")
        if response.status_code != 200:
            return RefundResult(Outcome.UNKNOWN, message=f"lookup HTTP {response.status_code}")
        for refund in response.json()["refunds"]:
            if refund["id"] == lookup.gateway_refund_id or refund.get("hub_refund_id") == lookup.hub_refund_id:
                return _result(refund)
        return None

    def payment(self, reference: str, extra: Mapping[str, str] | None = None) -> PaymentState:
        data = self._call("GET", f"/payments/{reference}").json()
        return PaymentState(
            reference=reference,
            currency=data["currency"],
            captured=data["amount"],
            refunded=data["refunded"],
            disputed=data["disputed"],
            refunds=tuple(_result(r) for r in data["refunds"]),
        )

    def verify_webhook(self, inbound: Inbound) -> Verified:
        secret = str(self.settings.get("webhook_secret", ""))
        given = inbound.headers.get("X-Sandbox-Signature", "")
        if not secret or not given or given != hmac_base64(secret, inbound.body):
            raise SignatureInvalid("X-Sandbox-Signature does not match the body")
        event = json.loads(inbound.body)
        return Verified(store_id=self.account, topic=str(event.get("type")), dedupe_key=str(event.get("id")))

    def parse_webhook(self, body: bytes) -> list[GatewayEvent]:
        try:
            event = json.loads(body)
            refund = event["refund"]
            return [
                GatewayEvent(
                    gateway_refund_id=refund["id"],
                    outcome=STATUS[refund["status"]],
                    payment_reference=refund["payment"],
                    hub_refund_id=refund.get("hub_refund_id"),
                    amount=refund["amount"],
                    currency=refund["currency"],
                    event_id=event["id"],
                )
            ]
        except (ValueError, KeyError) as exc:
            raise ParseError(f"not a sandbox refund event: {exc}") from exc


class SandboxGatewaySimulator(Simulator):
    name = "sandbox-gateway"

    def __init__(self, settle_after: float = 0.0, webhook_secret: str = "sandbox-gw-secret", **kwargs: Any) -> None:
        self.webhook_secret = webhook_secret
        self.ledger = SimLedger(id_prefix="sbre_", settle_after=settle_after, on_change=self._changed)
        self.calls: list[dict[str, Any]] = []
        super().__init__(**kwargs)

    def hub_settings(self) -> dict[str, Any]:
        return {
            "type": "sandbox",
            "base_url": self.url,
            "api_key": "sandbox-key",
            "webhook_secret": self.webhook_secret,
            "timeout": 2,
        }

    def create_payment(self, amount: int, currency: str = "USD", payment_id: str | None = None) -> str:
        return self.ledger.create_payment(amount, currency, payment_id).id

    def _json(self, refund: SimRefund) -> dict[str, Any]:
        return {
            "id": refund.id,
            "payment": refund.payment_id,
            "amount": refund.amount,
            "currency": refund.currency,
            "status": refund.status,
            "hub_refund_id": refund.metadata.get("hub_refund_id"),
        }

    def _changed(self, refund: SimRefund) -> None:
        if self.webhook_url and refund.status != PENDING:
            raw = json.dumps(
                {"id": f"evt_{uuid.uuid4().hex[:12]}", "type": "refund.updated", "refund": self._json(refund)}
            ).encode()
            self.sender.send(
                self.webhook_url,
                raw,
                {"Content-Type": "application/json", "X-Sandbox-Signature": hmac_base64(self.webhook_secret, raw)},
            )

    def build_app(self) -> Flask:
        app = Flask(self.name)

        @app.post("/refunds")
        def create() -> Any:
            data = request.get_json(force=True)
            self.calls.append(data)
            fingerprint = f"{data['payment']}:{data['amount']}:{data['currency']}"
            try:
                refund, _ = self.ledger.refund(
                    data["payment"],
                    data["amount"],
                    data["key"],
                    fingerprint,
                    metadata={"hub_refund_id": data.get("hub_refund_id")},
                )
            except SimError as exc:
                status = 404 if exc.code == "not_found" else 400
                return jsonify(code=exc.code, message=exc.message), status
            return jsonify(self._json(refund))

        @app.get("/payments/<payment_id>")
        def payment(payment_id: str) -> Any:
            try:
                pay = self.ledger.payment(payment_id)
            except SimError as exc:
                return jsonify(code=exc.code, message=exc.message), 404
            return jsonify(
                id=pay.id,
                amount=pay.amount,
                currency=pay.currency,
                disputed=pay.disputed,
                refunded=self.ledger.refunded(pay.id, include_pending=False),
                refunds=[self._json(r) for r in self.ledger.refunds_of(pay.id)],
            )

        @app.post("/__sim/payments")
        def seed() -> Any:
            data = request.get_json(force=True)
            return jsonify(id=self.create_payment(int(data["amount"]), data.get("currency", "USD"), data.get("id")))

        return app

    def stop(self) -> None:
        self.ledger.close()
        super().stop()
