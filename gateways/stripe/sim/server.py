"""``StripeSimulator``: Stripe's refund API on 127.0.0.1, faithful enough for the official SDK.

Payments are PaymentIntents (``pi_...``) with one captured charge (``ch_...``); refunds can be
made on either, with Stripe's idempotency rules (``refunds``). Money is kept in ``SimLedger``
(amounts in Stripe's API units); status changes are posted as signed ``refund.*`` events (``hooks``).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request

from gateways.stripe.sim import capture, control, disputes, hooks, refunds, shapes
from gateways.stripe.sim.refunds import Saved
from gateways.stripe.sim.shapes import response
from gateways.stripe.transformers import to_stripe_amount
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import SimLedger, SimRefund

REQUEST_LOG_SIZE = 1000  # a long sandbox run must not grow without bound


@dataclass
class SeenRequest:
    """One API request as it reached the simulator (before faults), for tests to inspect."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]


class StripeSimulator(Simulator):
    name = "stripe"

    def __init__(
        self,
        port: int = 0,
        webhook_url: str | None = None,
        *,
        settle_after: float = 0.0,
        api_key: str = "sk_test_simulator",
        webhook_secret: str = "whsec_simulator",
    ) -> None:
        self.api_key = api_key
        self.webhook_secrets = [webhook_secret]  # the first signs; all are sent while rolling
        self.requests: deque[SeenRequest] = deque(maxlen=REQUEST_LOG_SIZE)  # the latest, for tests
        self.ledger = SimLedger(id_prefix="re_", settle_after=settle_after, on_change=self._on_change)
        self.charges: dict[str, str] = {}  # charge id -> PaymentIntent id
        self.saved: dict[str, Saved] = {}  # idempotency key -> the answer replayed
        self.in_flight: set[str] = set()  # idempotency keys whose request is executing
        self.announced: set[str] = set()  # refunds whose refund.created was sent
        self.disputes: dict[str, dict[str, Any]] = {}  # dispute id -> Stripe's dispute object
        self.lock = threading.Lock()
        super().__init__(port=port, webhook_url=webhook_url)

    # -- seeding and control (Python and HTTP) ---------------------------------------------

    def create_payment(
        self, amount: int, currency: str, payment_id: str | None = None, *, capture_method: str = "automatic"
    ) -> str:
        """A PaymentIntent of ``amount`` hub minor units, captured at once (``automatic``) or only
        authorized (``manual``: captured later by ``capture``, in part or in several captures);
        returns its ``pi_`` id."""
        charge = shapes.new_id("ch_")
        payment = self.ledger.create_payment(
            to_stripe_amount(amount, currency),
            currency.upper(),
            payment_id or shapes.new_id("pi_"),
            captured=0 if capture_method == "manual" else None,
            charge=charge,
            capture_method=capture_method,
        )
        self.charges[charge] = payment.id
        return payment.id

    def capture(self, payment_id: str, amount: int | None = None, *, final: bool = True) -> None:
        """Capture ``amount`` hub minor units (all that is capturable when None) of a manual
        PaymentIntent, as ``POST /v1/payment_intents/:id/capture`` does."""
        payment = self.ledger.payment(payment_id)
        capture.capture(self, payment, None if amount is None else to_stripe_amount(amount, payment.currency), final)

    def charge_of(self, payment_id: str) -> str:
        return str(self.ledger.payment(payment_id).extra["charge"])

    def dashboard_refund(self, payment_id: str, amount: int) -> str:
        """A refund made in the Stripe Dashboard (no hub metadata); returns its ``re_`` id."""
        payment = self.ledger.payment(payment_id)
        return self.ledger.add_dashboard_refund(payment_id, to_stripe_amount(amount, payment.currency)).id

    def open_dispute(self, payment_id: str, amount: int | None = None) -> str:
        """The cardholder disputes the payment's charge (``charge.dispute.created``); its ``du_`` id."""
        return disputes.open_dispute(self, payment_id, amount)

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        """The issuer decides (``charge.dispute.closed``, status ``won`` or ``lost``)."""
        disputes.close_dispute(self, dispute_id, "won" if won else "lost")

    def roll_webhook_secret(self, new_secret: str) -> None:
        """Start signing with ``new_secret``; the old one keeps signing until ``expire_old_secrets``."""
        self.webhook_secrets.insert(0, new_secret)

    def expire_old_secrets(self) -> None:
        del self.webhook_secrets[1:]

    def hub_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secrets[0],
            "base_url": self.url,
            "timeout": 10,
            "max_network_retries": 2,
        }
        if len(self.webhook_secrets) > 1:
            settings["previous_webhook_secret"] = self.webhook_secrets[1]
        return settings

    def stop(self) -> None:
        super().stop()
        self.ledger.close()

    def error_body(self, status: int) -> Any:
        return shapes.status_error(status)

    # -- the API -----------------------------------------------------------------------------

    def build_app(self) -> Flask:
        app = Flask(f"stripe-simulator-{id(self)}")

        @app.before_request
        def _authenticate() -> Response | None:
            g.request_id = shapes.new_id("req_")
            if not request.path.startswith("/v1/"):
                return None
            source = request.form if request.method == "POST" else request.args
            self.requests.append(
                SeenRequest(
                    request.method, request.path, dict(request.headers), shapes.parse_form(source.items(multi=True))
                )
            )
            if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
                return response(401, shapes.error_json("invalid_request_error", "Invalid API Key provided."))
            return None

        @app.after_request
        def _headers(response: Response) -> Response:
            response.headers.setdefault("Request-Id", g.get("request_id", ""))
            response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", shapes.API_VERSION)
            return response

        app.post("/v1/refunds")(self._create_refund)
        app.get("/v1/refunds")(self._list_refunds)
        app.get("/v1/refunds/<refund_id>")(self._get_refund)
        app.get("/v1/payment_intents/<intent_id>")(self._get_intent)
        app.get("/v1/charges/<charge_id>")(self._get_charge)
        app.post("/v1/payment_intents/<intent_id>/capture")(lambda intent_id: capture.endpoint(self, intent_id))
        disputes.register(app, self)
        control.register(app, self)
        return app

    def _create_refund(self) -> Response:
        return refunds.create(self)

    def _list_refunds(self) -> Response:
        args = shapes.parse_form(request.args.items(multi=True))
        limit = int(args.get("limit", 10))
        if not 1 <= limit <= 100:
            return response(
                400,
                shapes.error_json(
                    "invalid_request_error",
                    "Invalid limit: must be between 1 and 100",
                    "parameter_invalid_integer",
                    "limit",
                ),
            )
        intent_id = args.get("payment_intent") or self.charges.get(args.get("charge", ""), "")
        if (args.get("payment_intent") or args.get("charge")) and intent_id not in self.ledger.payments:
            return response(404, shapes.error_json("invalid_request_error", "No such payment", "resource_missing"))
        refunds = self.ledger.refunds_of(intent_id) if intent_id else list(self.ledger.refunds.values())
        created = args.get("created")
        if isinstance(created, dict):  # created[gte]= / created[lt]=…, unix seconds, as Stripe's list filters
            low, high = int(created.get("gte", 0)), int(created.get("lt", 2**62))
            refunds = [r for r in refunds if low <= int(r.created) < high]
        ordered = sorted(refunds, key=lambda r: (r.created, r.id), reverse=True)
        if args.get("starting_after"):
            ids = [r.id for r in ordered]
            ordered = ordered[ids.index(args["starting_after"]) + 1 :] if args["starting_after"] in ids else []
        page = ordered[:limit]
        return response(200, shapes.list_json([self.refund_json(r) for r in page], has_more=len(ordered) > limit))

    def _get_refund(self, refund_id: str) -> Response:
        refund = self.ledger.refunds.get(refund_id)
        if refund is None:
            return response(
                404,
                shapes.error_json("invalid_request_error", f"No such refund: '{refund_id}'", "resource_missing", "id"),
            )
        return response(200, self.refund_json(refund))

    def _get_intent(self, intent_id: str) -> Response:
        if intent_id not in self.ledger.payments:
            return shapes.no_such_intent(intent_id)
        expand = _expand(request.args)
        payment = self.ledger.payment(intent_id)
        charge: str | dict[str, Any] = payment.extra["charge"]
        if "latest_charge" in expand:
            charge = self._charge_json(intent_id, "latest_charge.refunds" in expand)
        return response(200, shapes.intent_json(payment, charge))

    def _get_charge(self, charge_id: str) -> Response:
        intent_id = self.charges.get(charge_id)
        if intent_id is None:
            return response(
                404,
                shapes.error_json("invalid_request_error", f"No such charge: '{charge_id}'", "resource_missing", "id"),
            )
        return response(200, self._charge_json(intent_id, "refunds" in _expand(request.args)))

    # -- shapes and webhooks --------------------------------------------------------------

    def refund_json(self, refund: SimRefund) -> dict[str, Any]:
        return shapes.refund_json(refund, self.charge_of(refund.payment_id))

    def _charge_json(self, intent_id: str, with_refunds: bool) -> dict[str, Any]:
        payment = self.ledger.payment(intent_id)
        refunds = [self.refund_json(r) for r in self.ledger.refunds_of(intent_id)] if with_refunds else None
        body = shapes.charge_json(payment, self.ledger.refunded(intent_id), refunds)
        body["disputed"] = payment.disputed or disputes.ever_disputed(self, intent_id)  # stays true, as Stripe's
        return body

    def _on_change(self, refund: SimRefund) -> None:
        hooks.announce(self, refund)

    def send_event(self, event: dict[str, Any], timestamp: int | None = None) -> None:
        """Post a signed event to ``webhook_url`` (also usable by tests for hand-made events)."""
        hooks.send(self, event, timestamp)


def _expand(args: Any) -> list[str]:
    value = shapes.parse_form(args.items(multi=True)).get("expand", [])
    return value if isinstance(value, list) else [value]
