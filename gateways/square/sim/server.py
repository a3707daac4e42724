"""A local Square: the refund, payment and webhook surface the squareup SDK uses, over real HTTP.

Point the SDK at it with ``base_url``. Money keeping (refundable balance, idempotency keys,
pending -> final settling) is ``SimLedger``'s; this module speaks Square: ``POST /v2/refunds``
(the same key and body replay the first response, the same key with another body is
``IDEMPOTENCY_KEY_REUSED``), ``GET /v2/refunds[/{id}]``, ``GET /v2/payments/{id}``, Square's
``{"errors": [...]}`` envelope, and signed ``refund.created`` / ``refund.updated`` notifications.

Switches for tests: ``declined_inline`` (the next N refunds answer 200 with ``errors`` and a
FAILED refund, as Square may), ``block_while_pending`` (a payment with a pending refund
answers ``REFUND_ALREADY_PENDING``), ``ledger.fail_next_refunds`` (pending refunds settle FAILED).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request

from gateways.square import simshapes as shape
from gateways.square.transformers import IDEMPOTENCY_KEY_LIMIT, REASON_LIMIT
from gateways.square.webhooks import SIGNATURE_HEADER, sign
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import PENDING, SimError, SimLedger, SimRefund

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Refused(Exception):
    """A request Square would answer with an error envelope."""

    def __init__(self, status: int, category: str, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.body = shape.envelope(shape.error(category, code, detail, field))


@dataclass
class Exchange:
    """One API call as the simulator saw it (tests check these against Square's spec)."""

    method: str
    path: str
    request: Any
    status: int
    response: Any


class SquareSimulator(Simulator):
    name = "square"

    def __init__(
        self,
        port: int = 0,
        webhook_url: str | None = None,
        *,
        settle_after: float = 0.0,
        access_token: str = "EAAAsim-square-token",
        signature_key: str = "sim-square-signature-key",
        notification_url: str | None = None,
        merchant_id: str = "MLSIMSQUARE01",
        location_id: str = "LSIMSQUARE001",
    ) -> None:
        self.access_token = access_token
        self.signature_key = signature_key
        self.notification_url = notification_url
        self.merchant_id = merchant_id
        self.location_id = location_id
        self.declined_inline = 0
        self.block_while_pending = False
        self.exchanges: deque[Exchange] = deque(maxlen=1000)  # bounded for long sandbox runs
        self._lock = threading.RLock()
        self._first_responses: dict[str, dict[str, Any]] = {}
        self._announced: set[str] = set()
        self.ledger = SimLedger(id_prefix="sqrf_", settle_after=settle_after, on_change=self._refund_changed)
        super().__init__(port=port, webhook_url=webhook_url)

    # -- seeding (Python and the /__sim control API) ---------------------------------------
    def create_payment(
        self, amount: int, currency: str, payment_id: str | None = None, status: str = "COMPLETED"
    ) -> str:
        return self.ledger.create_payment(amount, currency.upper(), payment_id, status=status).id

    def dashboard_refund(self, payment_id: str, amount: int, reason: str = "Returned in store") -> str:
        """A refund the seller makes in the Square Dashboard: no hub marker in its reason."""
        refund, _ = self.ledger.refund(payment_id, amount, key=None, fingerprint="", reason=reason, pending=False)
        return refund.id

    def hub_settings(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "environment": "sandbox",
            "base_url": self.url,
            "webhook_signature_key": self.signature_key,
            "notification_url": self.signed_url(),
            "timeout": 10,
        }

    def signed_url(self) -> str | None:
        """The URL the signatures cover: the subscription's public URL, else where we post."""
        return self.notification_url or self.webhook_url

    def error_body(self, status: int) -> Any:
        return shape.status_envelope(status)

    def stop(self) -> None:
        super().stop()
        self.ledger.close()

    # -- the HTTP surface ---------------------------------------------------------------------
    def build_app(self) -> Flask:
        app = Flask("square-simulator")

        @app.errorhandler(Refused)
        def _refused(exc: Refused) -> tuple[Response, int]:
            return jsonify(exc.body), exc.status

        @app.before_request
        def _authenticate() -> None:
            if not request.path.startswith("/v2/"):
                return
            if request.headers.get("Authorization") != f"Bearer {self.access_token}":
                raise Refused(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized.")
            version = request.headers.get("Square-Version")
            if version is not None and not _VERSION.match(version):
                raise Refused(400, "INVALID_REQUEST_ERROR", "INVALID_SQUARE_VERSION_FORMAT", "Bad Square-Version.")

        @app.after_request
        def _record(response: Response) -> Response:
            if request.path.startswith("/v2/") and response.is_json:
                self.exchanges.append(
                    Exchange(
                        request.method,
                        request.path,
                        request.get_json(silent=True),
                        response.status_code,
                        response.get_json(silent=True),
                    )
                )
            return response

        @app.post("/v2/refunds")
        def _refund_payment() -> Response:
            return jsonify(self._refund_payment(request.get_json(silent=True)))

        @app.get("/v2/refunds/<refund_id>")
        def _get_refund(refund_id: str) -> Response:
            refund = self.ledger.refunds.get(refund_id)
            if refund is None:
                raise Refused(
                    404, "INVALID_REQUEST_ERROR", "NOT_FOUND", f"Could not find payment refund with id: {refund_id}"
                )
            return jsonify({"refund": shape.refund_json(refund, self.location_id)})

        @app.get("/v2/refunds")
        def _list_refunds() -> Response:
            return jsonify(self._list_refunds(request.args))

        @app.get("/v2/payments/<payment_id>")
        def _get_payment(payment_id: str) -> Response:
            payment = self._ledger_call(self.ledger.payment, payment_id)
            return jsonify({"payment": shape.payment_json(payment, self.ledger, self.location_id)})

        @app.post("/__sim/payments")
        def _seed_payment() -> Response:
            spec = request.get_json(force=True)
            payment_id = self.create_payment(
                int(spec["amount"]), spec.get("currency", "USD"), spec.get("id"), spec.get("status", "COMPLETED")
            )
            return jsonify({"id": payment_id})

        @app.post("/__sim/payments/<payment_id>/refunds")
        def _seed_dashboard_refund(payment_id: str) -> Response:
            spec = request.get_json(force=True)
            refund_id = self._ledger_call(self.dashboard_refund, payment_id, int(spec["amount"]))
            return jsonify({"id": refund_id})

        @app.post("/__sim/switches")
        def _switches() -> Response:
            spec = request.get_json(force=True)
            self.declined_inline = int(spec.get("declined_inline", self.declined_inline))
            self.block_while_pending = bool(spec.get("block_while_pending", self.block_while_pending))
            self.ledger.settle_after = float(spec.get("settle_after", self.ledger.settle_after))
            return jsonify({"ok": True})

        return app

    def _refund_payment(self, body: Any) -> dict[str, Any]:
        key, amount, currency, payment_id, reason = _read_refund_request(body)
        fingerprint = json.dumps({k: v for k, v in body.items() if k != "idempotency_key"}, sort_keys=True)
        with self._lock:
            first = self._first_responses.get(key)
            if first is not None:
                # Same key: Square answers the first response, or refuses a changed request.
                self._ledger_call(self.ledger.refund, payment_id, amount, key, fingerprint)
                return first
            payment = self._ledger_call(self.ledger.payment, payment_id)
            if currency != payment.currency:
                raise Refused(
                    400,
                    "INVALID_REQUEST_ERROR",
                    "CURRENCY_MISMATCH",
                    f"Refund currency {currency} does not match payment currency {payment.currency}.",
                    "amount_money.currency",
                )
            if payment.extra.get("status", "COMPLETED") != "COMPLETED":
                raise Refused(400, "REFUND_ERROR", "PAYMENT_NOT_REFUNDABLE", f"Payment {payment_id} is not completed.")
            if self.block_while_pending and any(r.status == PENDING for r in self.ledger.refunds_of(payment_id)):
                raise Refused(
                    400, "REFUND_ERROR", "REFUND_ALREADY_PENDING", "The payment already has a pending refund."
                )
            decline = self.declined_inline > 0
            if decline:
                self.ledger.fail_next_refunds += 1  # the ledger creates it FAILED and consumes this
            try:
                refund, _ = self._ledger_call(
                    self.ledger.refund,
                    payment_id,
                    amount,
                    key,
                    fingerprint,
                    reason=reason,
                    pending=False if decline else None,
                )
            except Refused:
                if decline:
                    self.ledger.fail_next_refunds -= 1
                raise
            response: dict[str, Any] = {"refund": shape.refund_json(refund, self.location_id)}
            if decline:
                self.declined_inline -= 1
                response["errors"] = [
                    shape.error("REFUND_ERROR", "REFUND_DECLINED", "The card issuer declined the refund.")
                ]
            self._first_responses[key] = response
            return response

    def _list_refunds(self, args: Any) -> dict[str, Any]:
        refunds = sorted(self.ledger.refunds.values(), key=lambda r: r.created, reverse=args.get("sort_order") != "ASC")
        if args.get("status"):
            refunds = [r for r in refunds if shape.REFUND_STATUS[r.status] == args["status"]]
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), 100)
        page = refunds[start : start + limit]
        body: dict[str, Any] = {}
        if page:
            body["refunds"] = [shape.refund_json(r, self.location_id) for r in page]
        if start + limit < len(refunds):
            body["cursor"] = str(start + limit)
        return body

    @staticmethod
    def _ledger_call(function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except SimError as exc:
            status, category, code = shape.LEDGER_ERRORS.get(exc.code, (400, "INVALID_REQUEST_ERROR", "BAD_REQUEST"))
            raise Refused(status, category, code, exc.message) from None

    # -- notifications ------------------------------------------------------------------------
    def _refund_changed(self, refund: SimRefund) -> None:
        with self._lock:
            event_type = "refund.updated" if refund.id in self._announced else "refund.created"
            self._announced.add(refund.id)
        url = self.webhook_url
        signed_url = self.signed_url()
        if not url or not signed_url:
            return
        payload = shape.notification(event_type, shape.refund_json(refund, self.location_id), self.merchant_id)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.signature_key, signed_url, body)}
        self.sender.send(url, body, headers)


def _read_refund_request(body: Any) -> tuple[str, int, str, str, str | None]:
    """Validate a RefundPayment body the way Square does; returns its fields."""
    if not isinstance(body, dict):
        raise Refused(400, "INVALID_REQUEST_ERROR", "EXPECTED_JSON_BODY", "The request body must be a JSON object.")
    key = body.get("idempotency_key")
    if not isinstance(key, str) or not key:
        raise Refused(
            400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "idempotency_key"
        )
    if len(key.encode()) > IDEMPOTENCY_KEY_LIMIT:
        raise Refused(
            400,
            "INVALID_REQUEST_ERROR",
            "VALUE_TOO_LONG",
            f"Field must not be greater than {IDEMPOTENCY_KEY_LIMIT} length",
            "idempotency_key",
        )
    money = body.get("amount_money")
    if not isinstance(money, dict):
        raise Refused(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "amount_money")
    amount = money.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Refused(
            400, "INVALID_REQUEST_ERROR", "EXPECTED_INTEGER", "Expected an integer value.", "amount_money.amount"
        )
    if amount <= 0:
        raise Refused(400, "INVALID_REQUEST_ERROR", "VALUE_TOO_LOW", "Must be greater than 0.", "amount_money.amount")
    currency = money.get("currency")
    if not isinstance(currency, str) or currency != currency.upper():
        raise Refused(400, "INVALID_REQUEST_ERROR", "INVALID_ENUM_VALUE", "Unknown currency.", "amount_money.currency")
    payment_id = body.get("payment_id")
    if not isinstance(payment_id, str) or not payment_id:
        raise Refused(400, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "payment_id")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > REASON_LIMIT):
        raise Refused(
            400,
            "INVALID_REQUEST_ERROR",
            "VALUE_TOO_LONG",
            f"Field must not be greater than {REASON_LIMIT} length",
            "reason",
        )
    return key, amount, currency, payment_id, reason
