"""``StripeGateway``: refunds, lookups and status webhooks through the official ``stripe`` SDK.

The SDK client is built on first use (``_connection``): a web process only verifies status
webhooks (``gateways.stripe.webhooks``, no SDK) and never pays for importing ``stripe``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from threading import Lock
from typing import TYPE_CHECKING, Any, TypeVar

from gateways.stripe import transformers as tf
from gateways.stripe.disputes import dispute_events, holds
from gateways.stripe.settings import StripeSettings, webhook_secrets, webhook_tolerance
from gateways.stripe.webhooks import event_json, parse_events, verify_signature
from hub.contracts import (
    DisputeEvent,
    Execution,
    Gateway,
    GatewayEvent,
    Inbound,
    Outcome,
    PaymentState,
    RefundListing,
    RefundLookup,
    RefundResult,
    Verified,
)
from hub.errors import ParseError

if TYPE_CHECKING:
    import stripe

    from gateways.stripe.client import TracingRequestsClient

T = TypeVar("T")

# docs.stripe.com/api/idempotent_requests: keys up to 255 characters.
MAX_KEY_LENGTH = 255


class StripeGateway(Gateway):
    """One Stripe account (its settings: ``gateways.stripe.settings``)."""

    name = "stripe"
    # Stripe replays the saved response of a key for at least 24 hours, then prunes it.
    replay_window = timedelta(hours=24)
    lookup_is_complete = True  # get_refund pages through every refund of the payment for our metadata

    def __init__(self, account: str, settings: Mapping[str, Any]) -> None:
        super().__init__(account, settings)
        self._settings = StripeSettings.from_mapping(settings)  # checked now: a bad setting fails at start
        self._built: tuple[stripe.StripeClient, TracingRequestsClient] | None = None
        self._building = Lock()

    def _connection(self) -> tuple[stripe.StripeClient, TracingRequestsClient]:
        """The account's SDK client and its tracing HTTP client, made by the first call that needs them."""
        with self._building:
            if self._built is None:
                from gateways.stripe.client import build_client

                self._built = build_client(self._settings)
            return self._built

    @property
    def _client(self) -> stripe.StripeClient:
        return self._connection()[0]

    @property
    def _http(self) -> TracingRequestsClient:
        return self._connection()[1]

    # -- money ---------------------------------------------------------------------------

    def refund(self, execution: Execution) -> RefundResult:
        refused = self._precheck(execution)
        if isinstance(refused, RefundResult):
            return refused
        from gateways.stripe.errors import failure_result

        kind, object_id, amount = refused
        params = tf.refund_params(execution, kind, object_id, amount)
        self._http.begin()
        try:
            refund = self._client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": execution.idempotency_key},
            )
            return tf.refund_result(refund.to_dict())
        except Exception as exc:  # noqa: BLE001 - every SDK/transport error (or unreadable answer) becomes an outcome
            return failure_result(exc, earlier_attempt_may_have_executed=self._http.earlier_attempt_may_have_executed())

    def _precheck(self, execution: Execution) -> RefundResult | tuple[str, str, int]:
        """Refusals decided before any call: bad target, amount Stripe cannot express, bad key."""
        found = tf.target(execution.payment_reference, execution.payment_extra)
        if found is None:
            return RefundResult(
                outcome=Outcome.FAILED,
                code="unsupported_reference",
                message=f"{execution.payment_reference!r} is not a Stripe PaymentIntent (pi_) or charge (ch_/py_) id",
            )
        if not 0 < len(execution.idempotency_key) <= MAX_KEY_LENGTH:
            return RefundResult(
                outcome=Outcome.FAILED,
                code="invalid_idempotency_key",
                message=f"Stripe idempotency keys are 1-{MAX_KEY_LENGTH} characters",
            )
        try:
            amount = tf.to_stripe_amount(execution.amount, execution.currency)
        except tf.AmountNotRepresentable as exc:
            return RefundResult(outcome=Outcome.FAILED, code=exc.code, message=str(exc))
        if amount <= 0:
            return RefundResult(outcome=Outcome.FAILED, code="invalid_amount", message="refund amount must be positive")
        return found[0], found[1], amount

    # -- lookups (janitor, refundable balance) ----------------------------------------------

    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        from gateways.stripe.errors import lookup_failure

        try:
            if lookup.gateway_refund_id:
                found = self._retrieve_refund(lookup.gateway_refund_id)
                if found is not None:
                    return tf.refund_result(found)
            return self._search_refund(lookup)
        except Exception as exc:  # noqa: BLE001 - a failed lookup is an unknown outcome, never an exception
            failed = lookup_failure(exc)
            return RefundResult(outcome=Outcome.UNKNOWN, code=failed.code, message=f"lookup failed: {failed.message}")

    def _retrieve_refund(self, refund_id: str) -> dict[str, Any] | None:
        import stripe

        try:
            return self._call(lambda: self._client.v1.refunds.retrieve(refund_id)).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise

    def _search_refund(self, lookup: RefundLookup) -> RefundResult | None:
        found = tf.target(lookup.payment_reference, lookup.payment_extra)
        if found is None:
            return None
        for refund in self._refunds_of(*found):
            if tf.hub_refund_id(refund) == lookup.hub_refund_id:
                return tf.refund_result(refund)
        return None

    def _refunds_of(self, kind: str, object_id: str) -> Iterator[dict[str, Any]]:
        params: Any = {kind: object_id, "limit": 100}
        page = self._call(lambda: self._client.v1.refunds.list(params=params))
        for refund in page.auto_paging_iter():
            yield refund.to_dict()

    def payment(self, reference: str, extra: Mapping[str, str] | None = None) -> PaymentState:
        from gateways.stripe.errors import StripeLookupFailed, lookup_failure

        found = tf.target(reference, extra)
        if found is None:
            message = f"{reference!r} is not a Stripe PaymentIntent or charge id"
            raise StripeLookupFailed("unsupported_reference", message)
        kind, object_id = found
        try:
            if kind == "payment_intent":
                intent = self._call(
                    lambda: self._client.v1.payment_intents.retrieve(object_id, params={"expand": ["latest_charge"]})
                ).to_dict()
                charge = intent.get("latest_charge")
                state = tf.payment_state(reference, charge if isinstance(charge, dict) else None, intent["currency"])
            else:
                charge = self._call(lambda: self._client.v1.charges.retrieve(object_id)).to_dict()
                state = tf.payment_state(reference, charge, charge["currency"])
            # ``disputed`` stays true once a charge was disputed: its disputes say whether one holds
            return replace(state, disputed=self._dispute_holds(kind, object_id)) if state.disputed else state
        except tf.AmountNotRepresentable as exc:
            raise StripeLookupFailed(exc.code, str(exc)) from exc
        except Exception as exc:
            raise lookup_failure(exc) from exc

    def _dispute_holds(self, kind: str, object_id: str) -> bool:
        params: Any = {kind: object_id, "limit": 100}
        page = self._call(lambda: self._client.v1.disputes.list(params=params))
        return holds(dispute.to_dict() for dispute in page.auto_paging_iter())

    def _call(self, call: Callable[[], T]) -> T:
        self._http.begin()
        return call()

    def list_refunds(self, since: datetime, cursor: str | None) -> RefundListing | None:
        """The account's refunds since ``since`` (``gateways.stripe.listing``), for reconciliation."""
        from gateways.stripe.listing import list_page

        self._http.begin()
        return list_page(self._client, since, cursor)

    # -- status webhooks -----------------------------------------------------------------

    def verify_webhook(self, inbound: Inbound) -> Verified:
        verify_signature(inbound, webhook_secrets(self.settings), webhook_tolerance(self.settings))
        event = event_json(inbound.body)
        return Verified(store_id=self.account, topic=str(event["type"]), dedupe_key=str(event["id"]))

    def parse_webhook(self, body: bytes) -> list[GatewayEvent]:
        return parse_events(body)

    def parse_disputes(self, body: bytes) -> list[DisputeEvent]:
        return dispute_events(event_json(body, ParseError))
