"""``StripeSimulator``: Stripe's refund API on 127.0.0.1, faithful enough for the official SDK.

Payments are PaymentIntents (``pi_...``) with one captured charge (``ch_...``); refunds can be
made on either. Idempotency works as docs.stripe.com/api/idempotent_requests describes: once a
request starts executing, its status and body are saved under the key and replayed (Stripe
prunes keys after 24 hours; the simulator never does); a reuse with other parameters is a 400
``idempotency_error``; a concurrent one is a 409; requests failing validation save nothing.
Money is kept in ``SimLedger`` (amounts in Stripe's API units); status changes are posted as
signed ``refund.*`` events.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request

from gateways.stripe import simwire as wire
from gateways.stripe.transformers import AmountNotRepresentable, stripe_units, to_stripe_amount
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import FAILED, SimError, SimLedger, SimRefund

REQUEST_LOG_SIZE = 1000  # a long sandbox run must not grow without bound


@dataclass
class SeenRequest:
    """One API request as it reached the simulator (before faults), for tests to inspect."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]


@dataclass
class _Saved:
    fingerprint: str
    status: int
    body: dict[str, Any]
    request_id: str


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
        self._charges: dict[str, str] = {}  # charge id -> PaymentIntent id
        self._saved: dict[str, _Saved] = {}
        self._in_flight: set[str] = set()
        self._announced: set[str] = set()
        self._lock = threading.Lock()
        super().__init__(port=port, webhook_url=webhook_url)

    # -- seeding and control (Python and HTTP) ---------------------------------------------

    def create_payment(self, amount: int, currency: str, payment_id: str | None = None) -> str:
        """A captured PaymentIntent of ``amount`` hub minor units; returns its ``pi_`` id."""
        charge = wire.new_id("ch_")
        payment = self.ledger.create_payment(
            to_stripe_amount(amount, currency), currency.upper(), payment_id or wire.new_id("pi_"), charge=charge
        )
        self._charges[charge] = payment.id
        return payment.id

    def charge_of(self, payment_id: str) -> str:
        return str(self.ledger.payment(payment_id).extra["charge"])

    def dashboard_refund(self, payment_id: str, amount: int) -> str:
        """A refund made in the Stripe Dashboard (no hub metadata); returns its ``re_`` id."""
        payment = self.ledger.payment(payment_id)
        return self.ledger.add_dashboard_refund(payment_id, to_stripe_amount(amount, payment.currency)).id

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
        return wire.status_error(status)

    # -- the API -----------------------------------------------------------------------------

    def build_app(self) -> Flask:
        app = Flask(f"stripe-simulator-{id(self)}")

        @app.before_request
        def _authenticate() -> Response | None:
            g.request_id = wire.new_id("req_")
            if not request.path.startswith("/v1/"):
                return None
            source = request.form if request.method == "POST" else request.args
            self.requests.append(
                SeenRequest(
                    request.method, request.path, dict(request.headers), wire.parse_form(source.items(multi=True))
                )
            )
            if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
                return _json(401, wire.error_json("invalid_request_error", "Invalid API Key provided."))
            return None

        @app.after_request
        def _headers(response: Response) -> Response:
            response.headers.setdefault("Request-Id", g.get("request_id", ""))
            response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", wire.API_VERSION)
            return response

        app.post("/v1/refunds")(self._create_refund)
        app.get("/v1/refunds")(self._list_refunds)
        app.get("/v1/refunds/<refund_id>")(self._get_refund)
        app.get("/v1/payment_intents/<intent_id>")(self._get_intent)
        app.get("/v1/charges/<charge_id>")(self._get_charge)
        app.post("/__sim/payments")(self._seed_payment)
        app.post("/__sim/refunds")(self._seed_dashboard_refund)
        return app

    def _create_refund(self) -> Response:
        params = wire.parse_form(request.form.items(multi=True))
        key = request.headers.get("Idempotency-Key")
        fingerprint = json.dumps(["POST /v1/refunds", params], sort_keys=True)
        if key:
            with self._lock:
                answer = self._replay_or_claim(key, fingerprint)
            if answer is not None:
                return answer
        try:
            status, body, saveable = self._execute_refund(params, key, fingerprint)
        finally:
            if key:
                with self._lock:
                    self._in_flight.discard(key)
        if key and saveable:
            with self._lock:
                self._saved[key] = _Saved(fingerprint, status, body, g.request_id)
        response = _json(status, body)
        if key:
            response.headers["Idempotency-Key"] = key
        return response

    def _replay_or_claim(self, key: str, fingerprint: str) -> Response | None:
        saved = self._saved.get(key)
        if saved is not None:
            if saved.fingerprint != fingerprint:
                return _json(
                    400,
                    wire.error_json(
                        "idempotency_error",
                        f"Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                    ),
                )
            response = _json(saved.status, saved.body)
            response.headers.update({"Idempotent-Replayed": "true", "Original-Request": saved.request_id})
            if saved.status >= 400:
                response.headers["Stripe-Should-Retry"] = "false"
            return response
        if key in self._in_flight:
            response = _json(409, wire.status_error(409))
            response.headers["Stripe-Should-Retry"] = "true"
            return response
        self._in_flight.add(key)
        return None

    def _execute_refund(
        self, params: dict[str, Any], key: str | None, fingerprint: str
    ) -> tuple[int, dict[str, Any], bool]:
        """(status, body, saveable): validation failures are not saved under the key."""
        invalid = _validate_refund_params(params)
        if invalid is not None:
            return 400, invalid, False
        kind = "payment_intent" if params.get("payment_intent") else "charge"
        intent_id = params["payment_intent"] if kind == "payment_intent" else self._charges.get(params["charge"])
        if intent_id is None or intent_id not in self.ledger.payments:
            return (
                404,
                wire.error_json("invalid_request_error", f"No such {kind}: '{params[kind]}'", "resource_missing", kind),
                False,
            )
        payment = self.ledger.payment(intent_id)
        amount = int(params["amount"]) if "amount" in params else None
        _, step = stripe_units(payment.currency)
        if amount is not None and amount % step:
            return (
                400,
                wire.error_json(
                    "invalid_request_error",
                    f"Invalid amount. {payment.currency} amounts must be evenly divisible by {step}.",
                    "invalid_charge_amount_no_decimal_compatible",
                    "amount",
                ),
                False,
            )
        try:
            refund, _ = self.ledger.refund(
                intent_id, amount, key, fingerprint, metadata=params.get("metadata") or {}, reason=params.get("reason")
            )
        except SimError as exc:
            status, body = wire.ledger_error(exc)
            return status, body, True
        return 200, self._refund_json(refund), True

    def _list_refunds(self) -> Response:
        args = wire.parse_form(request.args.items(multi=True))
        limit = int(args.get("limit", 10))
        if not 1 <= limit <= 100:
            return _json(
                400,
                wire.error_json(
                    "invalid_request_error",
                    "Invalid limit: must be between 1 and 100",
                    "parameter_invalid_integer",
                    "limit",
                ),
            )
        intent_id = args.get("payment_intent") or self._charges.get(args.get("charge", ""), "")
        if (args.get("payment_intent") or args.get("charge")) and intent_id not in self.ledger.payments:
            return _json(404, wire.error_json("invalid_request_error", "No such payment", "resource_missing"))
        refunds = self.ledger.refunds_of(intent_id) if intent_id else list(self.ledger.refunds.values())
        ordered = sorted(refunds, key=lambda r: (r.created, r.id), reverse=True)
        if args.get("starting_after"):
            ids = [r.id for r in ordered]
            ordered = ordered[ids.index(args["starting_after"]) + 1 :] if args["starting_after"] in ids else []
        page = ordered[:limit]
        return _json(200, wire.list_json([self._refund_json(r) for r in page], has_more=len(ordered) > limit))

    def _get_refund(self, refund_id: str) -> Response:
        refund = self.ledger.refunds.get(refund_id)
        if refund is None:
            return _json(
                404,
                wire.error_json("invalid_request_error", f"No such refund: '{refund_id}'", "resource_missing", "id"),
            )
        return _json(200, self._refund_json(refund))

    def _get_intent(self, intent_id: str) -> Response:
        if intent_id not in self.ledger.payments:
            return _json(
                404,
                wire.error_json(
                    "invalid_request_error", f"No such payment_intent: '{intent_id}'", "resource_missing", "intent"
                ),
            )
        expand = _expand(request.args)
        payment = self.ledger.payment(intent_id)
        charge: str | dict[str, Any] = payment.extra["charge"]
        if "latest_charge" in expand:
            charge = self._charge_json(intent_id, "latest_charge.refunds" in expand)
        return _json(200, wire.intent_json(payment, charge))

    def _get_charge(self, charge_id: str) -> Response:
        intent_id = self._charges.get(charge_id)
        if intent_id is None:
            return _json(
                404,
                wire.error_json("invalid_request_error", f"No such charge: '{charge_id}'", "resource_missing", "id"),
            )
        return _json(200, self._charge_json(intent_id, "refunds" in _expand(request.args)))

    def _seed_payment(self) -> Response:
        spec = request.get_json(force=True)
        try:
            payment_id = self.create_payment(int(spec["amount"]), str(spec["currency"]), spec.get("id"))
        except (KeyError, ValueError, AmountNotRepresentable) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, {"id": payment_id, "charge": self.charge_of(payment_id)})

    def _seed_dashboard_refund(self) -> Response:
        spec = request.get_json(force=True)
        try:
            refund_id = self.dashboard_refund(str(spec["payment"]), int(spec["amount"]))
        except (KeyError, ValueError, SimError, AmountNotRepresentable) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, {"id": refund_id})

    # -- shapes and webhooks --------------------------------------------------------------

    def _refund_json(self, refund: SimRefund) -> dict[str, Any]:
        return wire.refund_json(refund, self.charge_of(refund.payment_id))

    def _charge_json(self, intent_id: str, with_refunds: bool) -> dict[str, Any]:
        payment = self.ledger.payment(intent_id)
        refunds = [self._refund_json(r) for r in self.ledger.refunds_of(intent_id)] if with_refunds else None
        return wire.charge_json(payment, self.ledger.refunded(intent_id), refunds)

    def _on_change(self, refund: SimRefund) -> None:
        """Stripe's refund events: created once, then updated; failed refunds also ``refund.failed``."""
        with self._lock:
            first = refund.id not in self._announced
            self._announced.add(refund.id)
        if not self.webhook_url:
            return
        kinds = ["refund.created"] if first else ["refund.updated"]
        if refund.status == FAILED:
            kinds.append("refund.failed")
        body = self._refund_json(refund)
        previous = None if first else {"status": "pending"}
        for kind in kinds:
            event = wire.event_json(kind, body, previous, refund.key)
            self.send_event(event)

    def send_event(self, event: dict[str, Any], timestamp: int | None = None) -> None:
        """Post a signed event to ``webhook_url`` (also usable by tests for hand-made events)."""
        if not self.webhook_url:
            return
        raw = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": wire.signature_header(raw, self.webhook_secrets, timestamp),
        }
        self.sender.send(self.webhook_url, raw, headers)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _expand(args: Any) -> list[str]:
    value = wire.parse_form(args.items(multi=True)).get("expand", [])
    return value if isinstance(value, list) else [value]


def _validate_refund_params(params: dict[str, Any]) -> dict[str, Any] | None:
    """Stripe's parameter validation for ``POST /v1/refunds`` (nothing is saved when it fails)."""
    unknown = sorted(set(params) - wire.REFUND_CREATE_KEYS)
    if unknown:
        return wire.error_json(
            "invalid_request_error", f"Received unknown parameter: {unknown[0]}", "parameter_unknown", unknown[0]
        )
    if not params.get("payment_intent") and not params.get("charge"):
        return wire.error_json(
            "invalid_request_error",
            "One of the following params should be provided for this request: payment_intent or charge.",
            "parameter_missing",
        )
    if "amount" in params and not (str(params["amount"]).isdigit() and int(params["amount"]) > 0):
        return wire.error_json(
            "invalid_request_error", "Invalid positive integer", "parameter_invalid_integer", "amount"
        )
    if params.get("reason") and params["reason"] not in wire.REFUND_REASONS:
        return wire.error_json(
            "invalid_request_error",
            f"Invalid reason: must be one of {', '.join(wire.REFUND_REASONS)}",
            "parameter_invalid_string",
            "reason",
        )
    metadata = params.get("metadata", {})
    if not isinstance(metadata, dict) or any(len(k) > 40 or len(str(v)) > 500 for k, v in metadata.items()):
        return wire.error_json("invalid_request_error", "Invalid metadata", "parameter_invalid_string", "metadata")
    return None
