"""A local Square: the refund, payment and webhook surface the squareup SDK uses, over real HTTP.

Point the SDK at it with ``base_url``. Money keeping (refundable balance, idempotency keys,
pending -> final settling) is ``SimLedger``'s; this module speaks Square: ``POST /v2/refunds``
(the same key and body replay the first response, the same key with another body is
``IDEMPOTENCY_KEY_REUSED``), ``GET /v2/refunds[/{id}]``, ``GET /v2/payments/{id}``,
``GET /v2/disputes[/{id}]`` (``sim.disputes``), Square's ``{"errors": [...]}`` envelope, and
signed ``refund.created`` / ``refund.updated`` (and ``dispute.*``) notifications.

Switches for tests: ``declined_inline`` (the next N refunds answer 200 with ``errors`` and a
FAILED refund, as Square may), ``block_while_pending`` (a payment with a pending refund
answers ``REFUND_ALREADY_PENDING``), ``ledger.fail_next_refunds`` (pending refunds settle FAILED).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from gateways.square.sim import control, disputes, hooks, payments, refunds
from gateways.square.sim import shapes as shape
from gateways.square.sim.refunds import ledger_call
from gateways.square.sim.shapes import Refused
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import SimLedger, SimRefund

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
        self.lock = threading.RLock()
        self.first_responses: dict[str, dict[str, Any]] = {}
        self.announced: set[str] = set()
        self.disputes: dict[str, dict[str, Any]] = {}  # dispute id -> Square's Dispute object
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

    def open_dispute(self, payment_id: str, amount: int | None = None) -> str:
        """The cardholder's bank disputes the payment (``dispute.created``); returns the dispute id."""
        return disputes.open_dispute(self, payment_id, amount)

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        """The bank decides (``dispute.state.updated`` to ``WON`` or ``LOST``)."""
        disputes.change_state(self, dispute_id, "WON" if won else "LOST")

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
        self._around(app)
        self._api_routes(app)
        disputes.register(app, self)
        control.register(app, self)
        return app

    def _around(self, app: Flask) -> None:
        """Square's error envelope, its bearer token and ``Square-Version`` checks, every exchange kept."""

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

    def _api_routes(self, app: Flask) -> None:
        @app.post("/v2/refunds")
        def _refund_payment() -> Response:
            return jsonify(refunds.refund_payment(self, request.get_json(silent=True)))

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

        @app.put("/v2/payments/<payment_id>")
        def _update_payment(payment_id: str) -> Response:
            return jsonify(payments.update(self, payment_id, request.get_json(silent=True)))

        @app.post("/v2/payments/<payment_id>/complete")
        def _complete_payment(payment_id: str) -> Response:
            return jsonify(payments.complete(self, payment_id))

        @app.get("/v2/payments/<payment_id>")
        def _get_payment(payment_id: str) -> Response:
            payment = ledger_call(self.ledger.payment, payment_id)
            return jsonify({"payment": shape.payment_json(payment, self.ledger, self.location_id)})

    def _list_refunds(self, args: Any) -> dict[str, Any]:
        refunds = sorted(self.ledger.refunds.values(), key=lambda r: r.created, reverse=args.get("sort_order") != "ASC")
        if args.get("status"):
            refunds = [r for r in refunds if shape.REFUND_STATUS[r.status] == args["status"]]
        if args.get("begin_time"):  # RFC 3339, inclusive (Square's default: a year back)
            begin = datetime.fromisoformat(args["begin_time"].replace("Z", "+00:00")).timestamp()
            refunds = [r for r in refunds if r.created >= begin]
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), 100)
        page = refunds[start : start + limit]
        body: dict[str, Any] = {}
        if page:
            body["refunds"] = [shape.refund_json(r, self.location_id) for r in page]
        if start + limit < len(refunds):
            body["cursor"] = str(start + limit)
        return body

    def _refund_changed(self, refund: SimRefund) -> None:
        hooks.refund_changed(self, refund)
